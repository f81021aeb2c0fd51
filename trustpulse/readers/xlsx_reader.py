"""XLSX exports (Brandwatch / Talkwalker / Sprout downloads, TAGS archives saved from Google Sheets).

The workbook is read with fastexcel (calamine). The first sheet whose header names a text column is the
table; report lines above the header are skipped and the columns mapped exactly as for CSV
(`csv_reader.records_from_rows`). Cells come out as strings: datetimes as ISO 8601, whole numbers as
integers, and an id Excel stored as a float that lost precision (more than 15 significant digits) in
scientific notation, so the CSV rule (not an id; a reader note) applies to it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import fastexcel

from trustpulse.readers.columns import map_columns, normalise_header, text_column_names
from trustpulse.readers.csv_reader import HEADER_SEARCH_ROWS, Row, records_from_rows
from trustpulse.readers.schema import DumpParseError

EXACT_FLOAT_INTEGER_LIMIT = 2**53  # above this a float no longer holds every integer: the id was rounded


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:.15e}" if abs(value) >= EXACT_FLOAT_INTEGER_LIMIT else str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _sheets(data: bytes, file: str) -> Iterator[tuple[str, list[list[str]]]]:
    """(sheet name, rows of cell strings) per sheet, rows in sheet order (blank rows as [])."""
    try:
        workbook = fastexcel.read_excel(data)
    except Exception as exc:  # fastexcel raises its own error types for a broken workbook
        raise DumpParseError(file, "workbook", f"unreadable XLSX: {exc}") from exc
    for index, name in enumerate(workbook.sheet_names):
        # header_row=None: every row is data; typed cells (the header row makes most columns text, so
        # numbers and dates are read from the typed arrow columns where the column is not mixed)
        sheet = workbook.load_sheet(index, header_row=None, dtype_coercion="coerce")
        table = sheet.to_arrow()
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        rows = [[_cell_text(col[r]) for col in columns] for r in range(table.num_rows)]
        yield name, [row if any(cell.strip() for cell in row) else [] for row in rows]


def _typed_rows(data: bytes, sheet_index: int, skip: int) -> list[list[object]]:
    """The sheet's rows below the header with types inferred from the data rows only."""
    workbook = fastexcel.read_excel(data)
    sheet = workbook.load_sheet(sheet_index, header_row=None, skip_rows=skip, dtype_coercion="coerce")
    table = sheet.to_arrow()
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [[col[r] for col in columns] for r in range(table.num_rows)]


def _find_header(rows: list[list[str]], text_names: set[str]) -> int | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len([c for c in row if c.strip()]) >= 2 and text_names & {normalise_header(c) for c in row}:
            return index
    return None


def read_xlsx(data: bytes, file: str, column_map: dict[str, str]) -> Iterator[dict]:
    """Raw records from the first sheet with a text column; line_start/line_end = the sheet row number."""
    text_names = text_column_names(column_map)
    seen: list[str] = []
    for sheet_index, (name, rows) in enumerate(_sheets(data, file)):
        header_index = _find_header(rows, text_names)
        if header_index is None:
            seen.append(f"{name}: [{', '.join(c for c in (rows[0] if rows else []) if c)[:200]}]")
            continue
        header = [c.strip() for c in rows[header_index]]
        while header and not header[-1]:
            header.pop()
        mapping = map_columns(header, column_map)
        if "text" not in mapping:
            seen.append(f"{name}: [{', '.join(header)[:200]}]")
            continue
        typed = _typed_rows(data, sheet_index, header_index + 1)
        yield from records_from_rows(_data_rows(typed, header, name, header_index), header, mapping)
        return
    raise DumpParseError(
        file, "workbook", f"no sheet has a text column ({'; '.join(seen)}); map one with --columns text=NAME"
    )


def _data_rows(typed: list[list[object]], header: list[str], sheet: str, header_index: int) -> Iterator[Row]:
    for offset, cells in enumerate(typed):
        number = header_index + 2 + offset  # 1-based sheet row: header row + 1 + offset
        fields = [_cell_text(c) for c in cells]
        if not any(f.strip() for f in fields):
            yield number, number, "", [], ""
            continue
        fields = fields[: len(header)] if all(not f for f in fields[len(header) :]) else fields
        raw = json.dumps({"sheet": sheet, "row": number, "cells": fields}, ensure_ascii=False)
        yield number, number, raw, fields, ""


def count_xlsx_records(data: bytes, column_map: dict[str, str] | None = None) -> int:
    """Non-blank rows below the header of the first sheet with a text column, counted from the plain
    string grid (not from the typed rows the reader turns into records)."""
    text_names = text_column_names(column_map)
    for _name, rows in _sheets(data, "workbook"):
        header_index = _find_header(rows, text_names)
        if header_index is not None:
            return sum(1 for row in rows[header_index + 1 :] if row)
    return 0
