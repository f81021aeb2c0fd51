"""What the Dagster catalog says about each published column: descriptions from the table contracts.

`described_schema(df)` is the `dagster/column_schema` of a table with each column's description
(`trustpulse.catalog.COLUMN_DESCRIPTIONS`), so the UI's column list explains the contract (the text column
first, as in the previews).
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from trustpulse.catalog import COLUMN_DESCRIPTIONS, TEXT_COLUMN


def described_schema(schema: pl.Schema | dict[str, pl.DataType]) -> dg.TableSchema:
    """`dagster/column_schema` for a table: every column, its type and (where known) its description."""
    names = list(schema)
    if TEXT_COLUMN in names:
        names.remove(TEXT_COLUMN)
        names.insert(0, TEXT_COLUMN)
    return dg.TableSchema(
        columns=[dg.TableColumn(name, str(schema[name]), description=COLUMN_DESCRIPTIONS.get(name)) for name in names]
    )


def catalog_metadata(df: pl.DataFrame) -> dict[str, object]:
    """Overrides for `table_metadata`: the described column schema of the whole table."""
    return {"dagster/column_schema": described_schema(df.schema)}
