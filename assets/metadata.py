"""Dagster materialisation metadata for a table: row count, a markdown preview, the schema."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

PREVIEW_ROWS = 10
PREVIEW_CHARS = 80


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def markdown_preview(df: pl.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    head = df.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in head.iter_rows()]
    return "\n".join(lines)


def table_metadata(df: pl.DataFrame, path: object | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "dagster/row_count": df.height,
        "preview": dg.MetadataValue.md(markdown_preview(df)),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, str(dtype)) for name, dtype in df.schema.items()]
        ),
    }
    if path is not None:
        meta["path"] = dg.MetadataValue.path(str(path))
    meta.update(extra)
    return meta
