"""CSV dumps: the Kaggle "Customer Support on Twitter" (twcs) schema and generic CSV with a column map.

Rows are streamed: a malformed row (wrong number of fields, an unbalanced quote) becomes a record
with `parse_error` set and its raw lines kept, and reading goes on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

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
GENERIC_FIELDS = ("text", "id", "author", "created_at", "platform", "in_reply_to", "thread_id", "url")
MAX_RECORD_LINES = 500  # a quoted field running longer than this is an unbalanced quote
csv.field_size_limit(1 << 30)


class _Dialect(csv.excel):
    pass


def sniff_dialect(sample: str) -> type[csv.Dialect]:
    """Excel-style CSV (doubled quotes) with the delimiter the header line uses."""
    header = sample.split("\n", 1)[0]
    counts = {d: header.count(d) for d in ",;\t|"}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return type("SniffedDialect", (_Dialect,), {"delimiter": delimiter})


def is_twcs_header(header: list[str]) -> bool:
    return set(TWCS_COLUMNS) <= {h.strip().lower() for h in header}


def _rows(lines: Iterable[tuple[int, str]], dialect) -> Iterator[tuple[int, int, str, list[str] | None, str]]:
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


def read_csv(
    lines: Iterable[tuple[int, str]], sample: str, file: str, column_map: dict[str, str], twcs: bool
) -> Iterator[dict]:
    dialect = sniff_dialect(sample)
    rows = _rows(lines, dialect)
    header_row = next(rows, None)
    if header_row is None or header_row[3] is None:
        raise DumpParseError(file, "line 1", "no readable CSV header")
    header = [h.strip() for h in header_row[3]]
    lower = [h.lower() for h in header]
    if twcs:
        mapping = {c: lower.index(c) for c in TWCS_COLUMNS}
    else:
        mapping = {}
        for field in GENERIC_FIELDS:
            column = column_map.get(field, field).lower()
            if column in lower:
                mapping[field] = lower.index(column)
        if "text" not in mapping:
            raise DumpParseError(
                file,
                "line 1",
                f"CSV header has no text column (looked for {column_map.get('text', 'text')!r}; "
                f"header: {', '.join(header)[:200]}); map one with csv_columns",
            )
    for start, end, raw, fields, error in rows:
        record: dict = {"line_start": start, "line_end": end, "raw": raw, "kind": "message"}
        if fields is not None and not any(f.strip() for f in fields):
            record["parse_error"] = "empty CSV row"
        elif fields is None:
            record["parse_error"] = error
        elif len(fields) != len(header):
            record["parse_error"] = f"expected {len(header)} fields, got {len(fields)}"
        elif twcs:
            get = {c: fields[i] for c, i in mapping.items()}
            inbound = get["inbound"].strip().lower()
            record.update(
                native_id=get["tweet_id"].strip() or None,
                author_handle=get["author_id"].strip() or None,
                created_at_raw=get["created_at"].strip() or None,
                text=get["text"],
                parent_native_id=get["in_response_to_tweet_id"].strip().removesuffix(".0") or None,
                platform="twitter",
                owner_hint={"true": False, "false": True}.get(inbound),
            )
            if record["owner_hint"] is None:
                record["parse_error"] = f"inbound must be True or False, got {get['inbound']!r}"
        else:
            get = {f: fields[i] for f, i in mapping.items()}
            record.update(
                native_id=get.get("id") or None,
                author_handle=get.get("author") or None,
                created_at_raw=get.get("created_at") or None,
                text=get["text"],
                parent_native_id=get.get("in_reply_to") or None,
                thread_native_id=get.get("thread_id") or None,
                platform=get.get("platform") or None,
                url=get.get("url") or None,
            )
        yield record
