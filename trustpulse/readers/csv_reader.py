"""CSV / TSV dumps: social-listening exports (Brandwatch, Meltwater, Talkwalker, TAGS...), generic CSV with
a column map, and the Kaggle "Customer Support on Twitter" (twcs) schema.

Exports put report lines above the header (Brandwatch: "Report:", "Brandwatch", "Query Id", the date
range, a blank line), name the text column after the tool ("Hit Sentence", "Full Text") and come with any
of `,` `;` tab `|` as the delimiter, so the header is searched for (`find_table_layout`) and the columns
mapped by name (`trustpulse.readers.columns`).

Rows are streamed: a malformed row (wrong number of fields, an unbalanced quote) becomes a record
with `parse_error` set and its raw lines kept, and reading goes on. Blank lines are not records.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from trustpulse.readers.columns import map_columns, normalise_header, text_column_names
from trustpulse.readers.schema import DumpParseError

TWCS_COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
MAX_RECORD_LINES = 500  # a quoted field running longer than this is an unbalanced quote
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 50  # the header is within the first this-many rows (report lines above it)
# How many of the rows after a header are compared with it: a header is one only when they have its width.
HEADER_CONFIRM_ROWS = 5
# A file with no table extension is taken for a table (and never for prose) only when this many
# consecutive rows have the same number (>= 2) of fields.
SHAPE_MIN_ROWS = 5
TABLE_EXTENSIONS = (".csv", ".tsv", ".tab")
# 5.70306E+17, 5,70306E+17, 1.23e+18, 1.2642552505858499e+18: a number Excel (or a float) rounded
SCIENTIFIC_ID = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
WHOLE_NUMBER_WITH_ZERO_FRACTION = re.compile(r"^(\d+)[.,]0+$")
DATE_HAS_TIME = ":"  # a date cell that already holds a time of day
ID_FIELDS = (("id", "native_id"), ("in_reply_to", "parent_native_id"), ("thread_id", "thread_native_id"))
csv.field_size_limit(1 << 30)

Row = tuple[int, int, str, "list[str] | None", str]  # first line, last line, raw text, fields or None, error


class _Dialect(csv.excel):
    pass


def dialect_for(delimiter: str) -> type[csv.Dialect]:
    """Excel-style CSV (doubled quotes) with the given delimiter."""
    return type("SniffedDialect", (_Dialect,), {"delimiter": delimiter})


def sniff_dialect(sample: str) -> type[csv.Dialect]:
    """Excel-style CSV with the delimiter of the table in the sample (its header region), else of the
    first line."""
    layout = _best_layout(sample, None)
    if layout is not None:
        return dialect_for(layout.delimiter)
    header = sample.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return dialect_for(delimiter)


def is_twcs_header(header: list[str]) -> bool:
    return set(TWCS_COLUMNS) <= {h.strip().lower() for h in header}


@dataclass(frozen=True)
class TableLayout:
    """Where a table's header is and how its rows are split."""

    delimiter: str
    header_start: int  # 1-based line the header record starts on
    header_end: int  # 1-based line it ends on (data rows start after it)
    header: list[str]


def _rows(lines: Iterable[tuple[int, str]], dialect) -> Iterator[Row]:
    """(first line, last line, raw text, fields or None, error) per CSV record."""
    buffer: list[str] = []
    start = 0
    last = 0
    for number, line in lines:
        if not buffer:
            start = number
        buffer.append(line)
        last = number
        raw = "\n".join(buffer)
        try:
            parsed = list(csv.reader([raw], dialect=dialect, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc) or "EOF" in str(exc):
                if len(buffer) < MAX_RECORD_LINES:
                    continue  # a quoted field spans lines
                yield start, last, raw, None, "unbalanced quote: quoted field never closes"
            else:
                yield start, last, raw, None, f"malformed CSV: {exc}"
            buffer = []
            continue
        buffer = []
        yield start, last, raw, parsed[0] if parsed else [], ""
    if buffer:
        yield (
            start,
            last,
            "\n".join(buffer),
            None,
            "unbalanced quote at end of file: quoted field never closes",
        )


def _sample_lines(sample: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(sample.split("\n"), start=1):
        yield number, line.rstrip("\r")


def _head_rows(sample: str, delimiter: str) -> list[Row]:
    """The first rows of the sample that are not blank lines (the sample's cut-off last line dropped)."""
    rows: list[Row] = []
    lines = list(_sample_lines(sample))
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]  # the sample may end in the middle of a line
    for row in _rows(lines, dialect_for(delimiter)):
        if row[3] == []:
            continue
        rows.append(row)
        if len(rows) >= HEADER_SEARCH_ROWS + HEADER_CONFIRM_ROWS:
            break
    return rows


def _find_header(rows: list[Row], text_names: set[str]) -> int | None:
    """Index of the first row (within HEADER_SEARCH_ROWS) that names a text column and that a following
    row confirms by having its width (where the file has rows after it). One confirming row is enough: a
    damaged export may have more broken rows than good ones, and its header is still its header."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        fields = row[3]
        if fields is None or len(fields) < 2 or not text_names & {normalise_header(f) for f in fields}:
            continue
        following = rows[index + 1 : index + 1 + HEADER_CONFIRM_ROWS]
        readable = [r for r in following if r[3] is not None]  # an unbalanced quote says nothing of width
        if not following or any(len(r[3] or []) == len(fields) for r in readable):
            return index
    return None


def _best_layout(sample: str, column_map: dict[str, str] | None) -> TableLayout | None:
    """The header row and delimiter of the table in the sample; None when no row names a text column."""
    text_names = text_column_names(column_map)
    best: TableLayout | None = None
    for delimiter in DELIMITERS:
        rows = _head_rows(sample, delimiter)
        index = _find_header(rows, text_names)
        if index is None:
            continue
        start, end, _raw, fields, _error = rows[index]
        layout = TableLayout(delimiter, start, end, [f.strip() for f in fields or []])
        # the delimiter that finds the header earliest wins, then the one that splits it into more columns
        if best is None or (start, -len(layout.header)) < (best.header_start, -len(best.header)):
            best = layout
    return best


def _looks_tabular(sample: str, file_name: str) -> tuple[bool, list[str]]:
    """Whether the file is a table (by extension, or by shape: consecutive rows with the same number of
    fields), and the row that would be its header (for the error message)."""
    by_extension = PurePath(file_name).suffix.lower() in TABLE_EXTENSIONS
    best_header: list[str] = []
    for delimiter in DELIMITERS:
        rows = [r for r in _head_rows(sample, delimiter) if r[3] is not None]
        run_start, run = 0, 0
        for index, row in enumerate(rows):
            width = len(row[3] or [])
            if index and width >= 2 and width == len(rows[index - 1][3] or []):
                run += 1
            else:
                run_start, run = index, 1 if width >= 2 else 0
            if run >= SHAPE_MIN_ROWS:
                return True, [f.strip() for f in rows[run_start][3] or []]
        if by_extension and rows and not best_header:
            widest = max(rows, key=lambda r: len(r[3] or []))
            best_header = [f.strip() for f in widest[3] or []] if len(widest[3] or []) >= 2 else []
    return by_extension, best_header


def find_table_layout(sample: str, file_name: str, column_map: dict[str, str] | None) -> TableLayout:
    """The table's layout, or DumpParseError naming the columns seen when no text column is found."""
    layout = _best_layout(sample, column_map)
    if layout is None:
        _tabular, header = _looks_tabular(sample, file_name)
        raise DumpParseError(file_name, "line 1", _no_text_column_reason(header, column_map))
    return layout


def _no_text_column_reason(header: list[str], column_map: dict[str, str] | None) -> str:
    wanted = f" (looked for {column_map['text']!r})" if column_map and column_map.get("text") else ""
    seen = ", ".join(header)[:300]
    return f"CSV header has no text column{wanted} among [{seen}]; map one with --columns text=NAME"


def detect_table_format(sample: str, file_name: str, column_map: dict[str, str] | None) -> str | None:
    """'twcs_csv' or 'csv' for a table, None for text that is not one (prose with commas stays prose).

    A file that is a table (by extension .csv/.tsv/.tab or by shape) but names no text column is refused
    with DumpParseError listing the header it has, rather than being read as one blog post.
    """
    layout = _best_layout(sample, column_map)
    if layout is not None:
        return "twcs_csv" if is_twcs_header(layout.header) else "csv"
    tabular, header = _looks_tabular(sample, file_name)
    if not tabular:
        return None
    raise DumpParseError(file_name, "line 1", _no_text_column_reason(header, column_map))


def clean_id(value: str | None) -> tuple[str | None, str | None]:
    """(id, note): '570306123456789012.0' -> '570306123456789012'; an id in scientific notation
    ('5,70306E+17') is not an id any more (Excel kept 6 digits), so (None, why)."""
    if value is None:
        return None, None
    value = value.strip()
    if not value:
        return None, None
    if SCIENTIFIC_ID.match(value):
        return None, f"id {value!r} is in scientific notation (Excel rounded it); not used as an id"
    whole = WHOLE_NUMBER_WITH_ZERO_FRACTION.match(value)
    return (whole.group(1) if whole else value), None


def records_from_rows(
    rows: Iterable[Row], header: list[str], mapping: dict[str, int], *, kind: str = "message"
) -> Iterator[dict]:
    """Rows of cells (after the header) -> raw records; shared by the CSV and XLSX readers.
    `mapping` is contract field -> column index (see `columns.map_columns`). A table without an author or a
    date column says so on every record (the dump's notes), instead of silently giving authorless, undated
    mentions."""
    unmapped = [field for field in NOTED_WHEN_UNMAPPED if field not in mapping]
    missing_note = (
        f"no {' or '.join(unmapped)} column among [{', '.join(header)[:200]}]; map one with --columns"
        if unmapped
        else None
    )
    for start, end, raw, fields, error in rows:
        if fields == []:
            continue  # a blank line
        record: dict = {"line_start": start, "line_end": end, "raw": raw, "kind": kind}
        if fields is None:
            record["parse_error"] = error
        elif not any(f.strip() for f in fields):
            record["parse_error"] = "empty CSV row"
        elif len(fields) != len(header):
            record["parse_error"] = f"expected {len(header)} fields, got {len(fields)}"
        else:
            record.update(_mapped_fields(fields, mapping))
            if missing_note:
                record["reader_note"] = "; ".join(filter(None, [record.get("reader_note"), missing_note]))
        yield record


NOTED_WHEN_UNMAPPED = ("author", "created_at")
# A cell holding a JSON string literal ('"Nobody: \\n\\nLiterally nobody..."'), as twarc-csv writes every text
_JSON_STRING_CELL = re.compile(r'^"(?:[^"\\]|\\.)*"$', re.DOTALL)


def _decoded_text(cell: str) -> str:
    """The text of a cell, with a JSON-encoded string decoded: quotes around it and escapes inside it
    (`\\n`, `\\u2019`) are the encoding, not the text. (A CSV cell that is a plain quoted sentence loses its
    quotation marks, a small price for not reading every twarc export as escape codes.)"""
    stripped = cell.strip()
    if len(stripped) >= 2 and _JSON_STRING_CELL.match(stripped):
        try:
            decoded = json.loads(stripped)
        except json.JSONDecodeError:
            return cell
        if isinstance(decoded, str):
            return decoded
    return cell


def _mapped_fields(fields: list[str], mapping: dict[str, int]) -> dict:
    def get(field: str) -> str | None:
        index = mapping.get(field)
        value = fields[index].strip() if index is not None else ""
        return value or None

    created_at = get("created_at")
    time_of_day = get("time_of_day")
    if created_at and time_of_day and DATE_HAS_TIME not in created_at:  # Meltwater: Date and Time apart
        created_at = f"{created_at} {time_of_day}"
    values: dict = {
        "text": _decoded_text(fields[mapping["text"]]),
        "author_handle": get("author"),
        "author_name": get("author_name"),
        "created_at_raw": created_at,
        "platform": get("platform"),
        "url": get("url"),
    }
    notes = []
    for field, target in ID_FIELDS:
        values[target], note = clean_id(get(field))
        if note:
            notes.append(note)
    if notes:
        values["reader_note"] = "; ".join(notes)
    return values


def read_csv(
    lines: Iterable[tuple[int, str]], sample: str, file: str, column_map: dict[str, str], twcs: bool
) -> Iterator[dict]:
    if twcs:
        yield from _read_twcs(lines, sample, file)
        return
    layout = find_table_layout(sample, file, column_map)
    mapping = map_columns(layout.header, column_map)
    if "text" not in mapping:  # the user's text column is not in this file (the table found another)
        raise DumpParseError(file, f"line {layout.header_start}", _no_text_column_reason(layout.header, column_map))
    data_rows = (row for row in _rows(lines, dialect_for(layout.delimiter)) if row[0] > layout.header_end)
    yield from records_from_rows(data_rows, layout.header, mapping)


def _read_twcs(lines: Iterable[tuple[int, str]], sample: str, file: str) -> Iterator[dict]:
    dialect = sniff_dialect(sample)
    rows = _rows(lines, dialect)
    header_row = next(rows, None)
    if header_row is None or header_row[3] is None:
        raise DumpParseError(file, "line 1", "no readable CSV header")
    header = [h.strip() for h in header_row[3]]
    lower = [h.lower() for h in header]
    mapping = {c: lower.index(c) for c in TWCS_COLUMNS}
    for start, end, raw, fields, error in rows:
        if fields == []:
            continue  # a blank line
        record: dict = {"line_start": start, "line_end": end, "raw": raw, "kind": "message"}
        if fields is not None and not any(f.strip() for f in fields):
            record["parse_error"] = "empty CSV row"
        elif fields is None:
            record["parse_error"] = error
        elif len(fields) != len(header):
            record["parse_error"] = f"expected {len(header)} fields, got {len(fields)}"
        else:
            get = {c: fields[i] for c, i in mapping.items()}
            inbound = get["inbound"].strip().lower()
            record.update(
                native_id=get["tweet_id"].strip() or None,
                author_handle=get["author_id"].strip() or None,
                created_at_raw=get["created_at"].strip() or None,
                text=get["text"],
                parent_native_id=get["in_response_to_tweet_id"].strip().removesuffix(".0") or None,
                reply_native_ids=",".join(
                    i.strip().removesuffix(".0") for i in get["response_tweet_id"].split(",") if i.strip()
                )
                or None,
                platform="twitter",
                owner_hint={"true": False, "false": True}.get(inbound),
            )
            if record["owner_hint"] is None:
                record["parse_error"] = f"inbound must be True or False, got {get['inbound']!r}"
        yield record


def count_csv_records(lines: Iterable[tuple[int, str]], sample: str, column_map: dict[str, str] | None = None) -> int:
    """Data records after the header, counted with a plain `csv.reader` pass (blank lines skipped):
    independent of the reader's row assembly, so a row it drops or merges shows up as a gap."""
    layout = _best_layout(sample, column_map)
    if layout is None:
        return 0  # the reader refuses such a file as a whole
    reader = csv.reader((line + "\n" for _, line in lines), dialect=dialect_for(layout.delimiter))
    count = 0
    try:
        for row in reader:
            if reader.line_num > layout.header_end and row:
                count += 1
    except csv.Error:
        count += 1  # a row the csv module cannot finish is one (unreadable) record to the reader too
    return count
