"""Fill a staff workbook's `sdg_vorschlag` column for project, dataset and indicator rows without SDG links."""

from __future__ import annotations

import warnings
from pathlib import Path

from loaders.sheets import canonical_column, canonical_sheet, cell_text, xlsx_too_large
from suggest.batch import InputError
from suggest.engine import Suggester

SUGGESTION_COLUMN = "sdg_vorschlag"
SHEETS = ("projects", "datasets", "indicators")


def fill_workbook(path: Path, suggester: Suggester, *, top: int = 3) -> dict[str, int]:
    """Write "11.2 (0.65); 3.6 (0.41)" into `sdg_vorschlag` of every row without SDG links; save in place.

    Only that column changes (it is added after the last column where missing); rows with SDG links keep
    whatever it held. Returns the number of filled rows per sheet title.
    """
    from openpyxl import load_workbook

    if xlsx_too_large(path) is not None:
        raise InputError(f"{path}: the workbook is too large to read")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # features openpyxl drops while reading (extensions)
            workbook = load_workbook(path)
    except Exception as error:  # a damaged file can fail anywhere inside zipfile/openpyxl/lxml
        raise InputError(f"{path} is not a readable Excel workbook: {type(error).__name__}") from None
    filled: dict[str, int] = {}
    for sheet in workbook.worksheets:
        if canonical_sheet(sheet.title) not in SHEETS:
            continue
        filled[sheet.title] = _fill_sheet(sheet, canonical_sheet(sheet.title), suggester, top)
    workbook.save(path)
    return filled


def _fill_sheet(sheet, canonical: str, suggester: Suggester, top: int) -> int:
    header_row = next((row for row in sheet.iter_rows() if any(c.value not in (None, "") for c in row)), None)
    if header_row is None:
        return 0
    columns: dict[str, int] = {}
    target_column = None
    for cell in header_row:
        header = cell_text(cell.value)
        if header.strip().lower() == SUGGESTION_COLUMN:
            target_column = cell.column
        elif header and (key := canonical_column(canonical, header)):
            columns.setdefault(key, cell.column)
    if "title" not in columns:
        return 0
    header_number = header_row[0].row
    if target_column is None:
        target_column = sheet.max_column + 1
        sheet.cell(header_number, target_column, SUGGESTION_COLUMN)
    count = 0
    for number in range(header_number + 1, sheet.max_row + 1):
        values = {key: cell_text(sheet.cell(number, column).value) for key, column in columns.items()}
        if not values.get("title") or values.get("sdg"):
            continue
        found = suggester.suggest(
            values["title"],
            values.get("description", ""),
            top=top,
            keywords=values.get("keywords", ""),
            theme=values.get("theme", "").split(";")[0],
            explain=False,
        )
        if found:  # a text without any evidence gets no suggestion rather than a guess
            sheet.cell(number, target_column, "; ".join(f"{s.target} ({s.score:.2f})" for s in found))
            count += 1
    return count
