"""Warehouse tables the report reads, loaded into tidy Polars frames with the columns the report uses.

A missing table (a thin or partial data root) loads as an empty frame of the expected schema, and a missing
column as nulls, so the report always renders and says "not enough data" instead of failing.
`mention_topics` and `topic_trends` are optional: `None` when their parquet files do not exist.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trustpulse.scoring.drivers import DRIVER_SCHEMA
from trustpulse.tables import ACCOUNTING_SCHEMA

UTC_TS = pl.Datetime("us", "UTC")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "mentions": {
        "mention_id": pl.String(),
        "dump_file": pl.String(),
        "platform": pl.String(),
        "thread_id": pl.String(),
        "author": pl.String(),
        "is_owner": pl.Boolean(),
        "brand": pl.List(pl.String()),
        "mention_type": pl.String(),
        "created_at": UTC_TS,
        "text": pl.String(),
        "url": pl.String(),
    },
    "mention_sentiment": {
        "mention_id": pl.String(),
        "label": pl.String(),
        "score": pl.Float64(),
        "not_scored_reason": pl.String(),  # "language": a text the model cannot read; its label is null
    },
    "needs_answer": {
        "mention_id": pl.String(),
        "owner": pl.String(),
        "brand": pl.String(),
        "platform": pl.String(),
        "created_at": UTC_TS,
        "reason": pl.String(),
        "is_negative": pl.Boolean(),
        "answered": pl.Boolean(),
        "answer_in_dump": pl.Boolean(),  # False: the export says a reply exists but it is not in the file
        "first_response_minutes": pl.Float64(),
    },
    "unanswered": {
        "mention_id": pl.String(),
        "owner": pl.String(),
        "brand": pl.String(),
        "thread_id": pl.String(),
        "platform": pl.String(),
        "created_at": UTC_TS,
        "reason": pl.String(),
        "sentiment_score": pl.Float64(),
        "text": pl.String(),
        "url": pl.String(),
        "author": pl.String(),
    },
    "responsiveness": {
        "owner": pl.String(),
        "brand": pl.String(),
        "period": pl.String(),
        "cut": pl.String(),
        "cut_value": pl.String(),
        "needs_answer": pl.Int64(),
        "answered": pl.Int64(),
        "answered_not_in_dump": pl.Int64(),  # answered, the reply not in the export (no response time)
        "response_rate": pl.Float64(),
        "response_rate_low": pl.Float64(),
        "response_rate_high": pl.Float64(),
        "first_response_minutes_median": pl.Float64(),
        "first_response_minutes_p90": pl.Float64(),
        "negative_needs_answer": pl.Int64(),
        "negative_response_rate": pl.Float64(),
        "abandoned_threads": pl.Int64(),
        "abandoned_channel": pl.Boolean(),
        "owner_replies": pl.Int64(),
        "personal_reply_share": pl.Float64(),
    },
    "trust_index": {
        "brand": pl.String(),
        "period": pl.String(),
        **{
            f"{name}{suffix}": pl.Float64()
            for name in ("trust_index", "ability", "benevolence", "integrity")
            for suffix in ("", "_low", "_high")
        },
        "ability_note": pl.String(),
        "benevolence_note": pl.String(),
        "integrity_note": pl.String(),
        "index_note": pl.String(),
        "threads": pl.Int64(),
        "n_audience": pl.Float64(),
    },
    "trust_drivers": DRIVER_SCHEMA,
    "ingest_accounting": ACCOUNTING_SCHEMA,
    "mention_topics": {"mention_id": pl.String(), "topic_id": pl.Int64(), "topic_label": pl.String()},
    "topic_trends": {
        "topic_id": pl.Int64(),
        "topic_label": pl.String(),
        "period_start": UTC_TS,
        "mentions": pl.Int64(),
        "share": pl.Float64(),
        "prev_share": pl.Float64(),
        "growth": pl.Float64(),
        "p_value": pl.Float64(),
        "rising": pl.Boolean(),
        "net_sentiment": pl.Float64(),
    },
}
REQUIRED = (
    "mentions",
    "mention_sentiment",
    "needs_answer",
    "unanswered",
    "responsiveness",
    "trust_index",
    "trust_drivers",
    "ingest_accounting",
)
OPTIONAL = ("mention_topics", "topic_trends")
# the asset that publishes each table, where its name differs from the table's
PRODUCED_BY = {"mentions": "mention_dataset", "ingest_accounting": "mention_dataset"}


def producing_assets() -> list[str]:
    """The assets whose tables the report reads, in reading order, each once."""
    return list(dict.fromkeys(PRODUCED_BY.get(name, name) for name in (*REQUIRED, *OPTIONAL)))


def _conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly `schema`'s columns in its order and types; absent columns become nulls."""
    exprs = []
    for name, dtype in schema.items():
        if name not in df.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif isinstance(dtype, pl.Datetime) and df.schema[name] == pl.String():
            exprs.append(pl.col(name).str.to_datetime(time_zone="UTC", strict=False).cast(dtype).alias(name))
        else:
            exprs.append(pl.col(name).cast(dtype, strict=False).alias(name))
    return df.select(exprs)


def read_table(warehouse_dir: Path, name: str) -> pl.DataFrame | None:
    """One warehouse table conformed to the report's schema, or None when its parquet file is absent."""
    path = warehouse_dir / f"{name}.parquet"
    if not path.exists():
        return None
    return _conform(pl.read_parquet(path), SCHEMAS[name])


@dataclass(frozen=True)
class Warehouse:
    """The report's input tables, unfiltered."""

    mentions: pl.DataFrame
    sentiment: pl.DataFrame
    needs: pl.DataFrame
    unanswered: pl.DataFrame
    responsiveness: pl.DataFrame
    trust: pl.DataFrame
    drivers: pl.DataFrame
    accounting: pl.DataFrame
    topics: pl.DataFrame | None
    topic_trends: pl.DataFrame | None
    missing: tuple[str, ...]


def load_warehouse(warehouse_dir: Path) -> Warehouse:
    """Read every table the report uses from `warehouse_dir/<table>.parquet`."""
    tables: dict[str, pl.DataFrame] = {}
    missing = []
    for name in REQUIRED:
        table = read_table(warehouse_dir, name)
        if table is None:
            missing.append(name)
            table = pl.DataFrame(schema=SCHEMAS[name])
        tables[name] = table
    return Warehouse(
        mentions=tables["mentions"],
        sentiment=tables["mention_sentiment"].unique("mention_id", keep="first"),
        # until the scoring stage writes them: a reply counts as in the export, none answered outside it
        needs=tables["needs_answer"].with_columns(pl.col("answer_in_dump").fill_null(True)),
        unanswered=tables["unanswered"],
        responsiveness=tables["responsiveness"].with_columns(pl.col("answered_not_in_dump").fill_null(0)),
        trust=tables["trust_index"],
        drivers=tables["trust_drivers"],
        accounting=tables["ingest_accounting"],
        topics=read_table(warehouse_dir, "mention_topics"),
        topic_trends=read_table(warehouse_dir, "topic_trends"),
        missing=tuple(missing),
    )
