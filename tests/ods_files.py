"""OpenDocument spreadsheets written as LibreOffice Calc writes them, for the loader tests.

A helper module, not a conftest: tests import it by name (`pythonpath = ["tests"]` in pyproject.toml).
The XML follows OpenDocument 1.2 part 1 §9 (tables): typed cells (`office:value-type`), merged ranges
(`table:number-columns-spanned` followed by `table:covered-table-cell`), formulas with their cached
result, hidden tables (`table:display="false"` in the table's style), and the padding LibreOffice adds:
each row repeated to the last column and an empty row repeated to row 1,048,576.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
LAST_ROW = 1_048_576
LAST_COLUMN = 1_024  # LibreOffice's default sheet width
_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"'
)


@dataclass(frozen=True)
class Formula:
    """A formula cell (OpenFormula text without `of:`) with the result LibreOffice cached for it."""

    formula: str
    value: Any


@dataclass(frozen=True)
class Merged:
    """A cell merged with the `columns - 1` cells to its right, which become covered cells."""

    value: Any
    columns: int


def _typed(value: Any) -> str:
    """The attributes and paragraph of a cell holding `value`."""
    if isinstance(value, bool):
        return f'office:value-type="boolean" office:boolean-value="{str(value).lower()}"><text:p>{value}</text:p>'
    if isinstance(value, int | float):
        return f'office:value-type="float" office:value="{value}"><text:p>{value}</text:p>'
    if isinstance(value, datetime):
        return f'office:value-type="date" office:date-value="{value.isoformat()}"><text:p>{value}</text:p>'
    if isinstance(value, date):
        shown = value.strftime("%d.%m.%Y")
        return f'office:value-type="date" office:date-value="{value.isoformat()}"><text:p>{shown}</text:p>'
    return f'office:value-type="string"><text:p>{escape(str(value))}</text:p>'


def _cell(value: Any) -> tuple[str, int]:
    """The XML of one cell and the number of columns it takes."""
    if value is None or value == "":
        return "<table:table-cell/>", 1
    if isinstance(value, Formula):
        return (
            f"<table:table-cell table:formula={quoteattr('of:' + value.formula)} {_typed(value.value)}</table:table-cell>",
            1,
        )
    if isinstance(value, Merged):
        covered = "<table:covered-table-cell/>" * (value.columns - 1)
        head = f'<table:table-cell table:number-columns-spanned="{value.columns}" {_typed(value.value)}'
        return f"{head}</table:table-cell>{covered}", value.columns
    return f"<table:table-cell {_typed(value)}</table:table-cell>", 1


def _row(cells: Sequence[Any]) -> str:
    parts, width = [], 0
    for value in cells:
        xml, columns = _cell(value)
        parts.append(xml)
        width += columns
    if width < LAST_COLUMN:
        parts.append(f'<table:table-cell table:number-columns-repeated="{LAST_COLUMN - width}"/>')
    return f"<table:table-row>{''.join(parts)}</table:table-row>"


def write_ods(path: Path, tables: Mapping[str, Sequence[Sequence[Any]]], *, hidden: Sequence[str] = ()) -> Path:
    """Write `tables` (name → rows of cell values, `None` for an empty cell) as LibreOffice would."""
    body = []
    for name, rows in tables.items():
        style = ' table:style-name="hidden"' if name in hidden else ""
        padding = (
            f'<table:table-row table:number-rows-repeated="{LAST_ROW - len(rows)}">'
            f'<table:table-cell table:number-columns-repeated="{LAST_COLUMN}"/></table:table-row>'
        )
        rows_xml = "".join(_row(cells) for cells in rows)
        body.append(f"<table:table table:name={quoteattr(name)}{style}>{rows_xml}{padding}</table:table>")
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} office:version="1.2">'
        '<office:automatic-styles><style:style style:name="hidden" style:family="table">'
        '<style:table-properties table:display="false"/></style:style></office:automatic-styles>'
        f"<office:body><office:spreadsheet>{''.join(body)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        # OpenDocument 1.2 part 3 §3.3: the uncompressed `mimetype` member comes first.
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def xlsx_as_ods(xlsx: Path, ods: Path) -> Path:
    """The workbook `xlsx` with the same typed cell values on the same sheets, saved as ODS."""
    import openpyxl

    workbook = openpyxl.load_workbook(xlsx)
    tables = {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    return write_ods(ods, tables, hidden=[ws.title for ws in workbook.worksheets if ws.sheet_state != "visible"])
