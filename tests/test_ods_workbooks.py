"""LibreOffice workbooks (.ods) read like Excel ones, and the template's drop-downs accept what its help promises."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from ods_files import Formula, Merged, write_ods, xlsx_as_ods
from test_staff_loader import BASE, GOOD, GRAPH, INTERNAL, MUNICIPALITY

from loaders.report import Severity
from loaders.sheets import FREQUENCIES, read_sheets, write_sheets, write_template
from loaders.staff import build, load
from loaders.vocab import DCT, EU_FREQUENCY


def load_path(path: Path):
    return load([path], base=BASE, municipality=MUNICIPALITY, graph=GRAPH, internal_graph=INTERNAL)


def test_an_ods_workbook_gives_the_same_quads_as_the_same_xlsx_workbook(tmp_path: Path) -> None:
    xlsx = tmp_path / "staff.xlsx"
    write_sheets(GOOD, xlsx)
    from_xlsx, from_ods = load_path(xlsx), load_path(xlsx_as_ods(xlsx, tmp_path / "staff.ods"))
    assert from_ods.errors == [] and from_xlsx.errors == []
    assert sum(len(q) for q in from_ods.graphs.values()) > 100
    for graph in (GRAPH, INTERNAL):
        assert set(from_ods.graphs[graph]) == set(from_xlsx.graphs[graph])


def test_problems_in_an_ods_name_the_file_sheet_row_and_column_as_for_xlsx(tmp_path: Path) -> None:
    rows = copy.deepcopy(GOOD)
    rows["projects"][1]["lead_department"] = "99"
    rows["datasets"][0]["frequency"] = "zweimal im Jahr"
    xlsx = tmp_path / "staff.xlsx"
    write_sheets(rows, xlsx)
    where = {
        path.suffix: [
            (p.file.rsplit(".", 1)[0], p.sheet, p.row, p.column, p.message_de) for p in load_path(path).errors
        ]
        for path in (xlsx, xlsx_as_ods(xlsx, tmp_path / "staff.ods"))
    }
    assert len(where[".ods"]) == 2
    assert where[".ods"] == where[".xlsx"]
    assert ("staff", "Projekte", 3, "D (Federführung)") in [w[:4] for w in where[".ods"]]


def test_a_sheet_padded_to_a_million_rows_and_a_thousand_columns_reads_in_a_moment(tmp_path: Path) -> None:
    # LibreOffice writes the unused rest of a sheet as one row repeated 1,048,5xx times.
    path = write_ods(tmp_path / "aemter.ods", {"Ämter": [["ID", "Name"], ["61", "Stadtplanungsamt"]]})
    started = time.perf_counter()
    sheets, problems = read_sheets([path])
    assert time.perf_counter() - started < 2
    assert problems == []
    assert [(r.row, dict(r.values)) for r in sheets["departments"]] == [(2, {"id": "61", "name": "Stadtplanungsamt"})]


def test_typed_ods_cells_read_as_their_values_formulas_as_their_results(tmp_path: Path) -> None:
    header = ["ID", "Titel", "Federführung", "SDG", "Beginn", "Ende", "Beschreibung"]
    row = ["p1", Formula('="Rad"&"weg"', "Radweg"), 61, 11.2, date(2024, 3, 1), None, Merged("lang", 2)]
    path = write_ods(tmp_path / "projekte.ods", {"Projekte": [header, row]})
    sheets, problems = read_sheets([path])
    assert problems == []
    (read,) = sheets["projects"]
    assert {k: read.text(k) for k in read.values} == {
        "id": "p1",
        "title": "Radweg",
        "lead_department": "61",
        "sdg": "11.2",
        "start": "2024-03-01",
        "description": "lang",
    }


def test_a_hidden_ods_sheet_is_read_as_a_hidden_xlsx_sheet_is(tmp_path: Path) -> None:
    # A hidden sheet that were skipped would load as empty, and replacing the source would delete its rows.
    tables = {"Ämter": [["ID", "Name"], ["61", "Stadtplanungsamt"]], "Listen": [["status"], ["geplant"]]}
    ods = write_ods(tmp_path / "aemter.ods", tables, hidden=["Ämter", "Listen"])
    xlsx = tmp_path / "aemter.xlsx"
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in tables.items():
        sheet = workbook.create_sheet(name)
        sheet.sheet_state = "hidden" if name == "Listen" else "visible"
        for cells in rows:
            sheet.append(cells)
    workbook["Ämter"].sheet_state = "hidden"
    workbook.create_sheet("Hilfe")  # openpyxl cannot save a workbook without a visible sheet
    workbook.save(xlsx)
    read = {path.suffix: read_sheets([path]) for path in (ods, xlsx)}
    assert [dict(r.values) for r in read[".ods"][0]["departments"]] == [{"id": "61", "name": "Stadtplanungsamt"}]
    assert read[".ods"][1] == read[".xlsx"][1] == []


def test_a_folder_of_ods_workbooks_is_read_and_lock_files_are_skipped(tmp_path: Path) -> None:
    write_ods(tmp_path / "aemter.ods", {"Ämter": [["ID", "Name"], ["61", "Stadtplanungsamt"]]})
    (tmp_path / ".~lock.aemter.ods#").write_text("LibreOffice lock", encoding="utf-8")
    sheets, problems = read_sheets([tmp_path])
    assert problems == []
    assert [r.text("name") for r in sheets["departments"]] == ["Stadtplanungsamt"]


def test_a_truncated_ods_gives_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    good = write_ods(tmp_path / "good.ods", {"Ämter": [["ID", "Name"], ["61", "Stadtplanungsamt"]]})
    broken = tmp_path / "aemter.ods"
    broken.write_bytes(good.read_bytes()[:300])
    sheets, problems = read_sheets([broken])
    assert sheets == {}
    assert [(p.severity, p.file) for p in problems] == [(Severity.ERROR, "aemter.ods")]
    assert "LibreOffice" in problems[0].message_de and "aemter.ods" in problems[0].message_en


# --- the update frequency: help text, drop-down and loader agree ---------------------------------------


def frequency_drop_down(path: Path) -> tuple[str, list[str], bool]:
    """The Aktualisierung column's help text (from the Hilfe sheet), its drop-down values, and whether
    Excel refuses a value not in the list."""
    workbook = openpyxl.load_workbook(path)
    datasets = workbook["Datensätze"]
    header = [c.value for c in datasets[1]]
    letter = openpyxl.utils.get_column_letter(header.index("Aktualisierung") + 1)
    (validation,) = [v for v in datasets.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")]
    sheet, cells = validation.formula1.lstrip("=").split("!")
    values = [c.value for row in workbook[sheet][cells.replace("$", "")] for c in row if c.value is not None]
    help_rows = workbook["Hilfe"].iter_rows(values_only=True)
    (help_de,) = [row[4] for row in help_rows if row[0] == "Datensätze" and row[1] == "Aktualisierung"]
    return help_de, values, validation.showErrorMessage


def frequency_of(value: str, tmp_path: Path) -> tuple[list, list[str]]:
    """Load a one-dataset workbook with `value` as its update frequency: problems and frequency IRIs."""
    rows = {"departments": [GOOD["departments"][0]], "datasets": [{**GOOD["datasets"][1], "department": "dez-3"}]}
    rows["datasets"][0]["frequency"] = value
    path = tmp_path / "frequency.xlsx"
    write_sheets(rows, path)
    result = build(read_sheets([path])[0], base=BASE, municipality=MUNICIPALITY, graph=GRAPH, internal_graph=INTERNAL)
    quads = [q for quads in result.graphs.values() for q in quads if q.predicate == DCT.accrualPeriodicity]
    return [p for p in result.problems if p.column and "Aktualisierung" in p.column], [q.object.value for q in quads]


def test_every_update_frequency_the_template_help_names_is_in_its_drop_down(tmp_path: Path) -> None:
    path = tmp_path / "vorlage.xlsx"
    write_template(path)
    help_de, values, strict = frequency_drop_down(path)
    named = [w.strip() for group in re.findall(r"\(([^)]*)\)", help_de) for w in group.split(",")]
    named = [w.removesuffix("…").strip() for w in named if w.removesuffix("…").strip()]
    assert {"jährlich", "monatlich", "ANNUAL", "MONTHLY"} <= set(named)
    assert strict  # Excel refuses what is not in the list, so the list must hold every promised value
    assert set(named) <= set(values)
    assert set(FREQUENCIES) <= set(values)


def test_every_value_of_the_update_frequency_drop_down_loads_as_an_eu_frequency(tmp_path: Path) -> None:
    path = tmp_path / "vorlage.xlsx"
    write_template(path)
    _, values, _ = frequency_drop_down(path)
    loaded = {}
    for value in values:
        problems, iris = frequency_of(value, tmp_path)
        assert problems == [], value
        (loaded[value],) = iris
    assert all(loaded[code] == f"{EU_FREQUENCY}{code}" for code in FREQUENCIES)
    german = {"jährlich": "ANNUAL", "monatlich": "MONTHLY", "täglich": "DAILY", "unregelmäßig": "IRREG"}
    assert {value: loaded[value].rsplit("/", 1)[1] for value in german} == german


# --- LibreOffice itself ----------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice")


def libreoffice_converts(xlsx: Path, tmp_path: Path) -> Path:
    """`xlsx` saved as ODS by LibreOffice Calc (headless, with a profile of its own under tmp_path)."""
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation={profile}",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return xlsx.with_suffix(".ods")


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed; apt-get install libreoffice-calc-nogui"
)
def test_a_workbook_libreoffice_saved_as_ods_gives_the_same_quads_as_the_xlsx(tmp_path: Path) -> None:
    xlsx = tmp_path / "staff.xlsx"
    write_sheets(GOOD, xlsx)
    from_xlsx, from_ods = load_path(xlsx), load_path(libreoffice_converts(xlsx, tmp_path))
    assert from_ods.errors == []
    for graph in (GRAPH, INTERNAL):
        assert set(from_ods.graphs[graph]) == set(from_xlsx.graphs[graph])


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed; apt-get install libreoffice-calc-nogui"
)
def test_the_template_libreoffice_saved_as_ods_reads_back_without_problems(tmp_path: Path) -> None:
    xlsx = tmp_path / "vorlage.xlsx"
    write_template(xlsx)
    assert read_sheets([libreoffice_converts(xlsx, tmp_path)]) == read_sheets([xlsx])
