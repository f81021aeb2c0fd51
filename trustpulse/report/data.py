"""Warehouse tables the report reads, loaded into tidy Polars frames with the columns the report uses.

Each table is read through the table contract (`trustpulse.tables.conform`): its columns are strictly cast to the
contract's types, so a drifted column (missing, or holding values of another type) stops the report with a
one-line error naming the table and the column instead of silently becoming null. Only columns an earlier version
did not write read as null. A missing table (a thin or partial data root) loads as an empty frame, so the report
still renders and says "not enough data". `mention_topics` and `topic_trends` are optional: `None` when their
parquet files do not exist.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trustpulse.storage import table_path
from trustpulse.tables import TABLES, conform, schema_of

# the columns of each table the report uses (their types are the contract's); None: all of them
COLUMNS: dict[str, tuple[str, ...] | None] = {
    "mentions": (
        "mention_id",
        "dump_file",
        "platform",
        "thread_id",
        "author",
        "is_owner",
        "brand",
        "mention_type",
        "created_at",
        "text",
        "url",
    ),
    "mention_sentiment": ("mention_id", "label", "score", "not_scored_reason"),
    "needs_answer": (
        "mention_id",
        "owner",
        "brand",
        "platform",
        "created_at",
        "reason",
        "is_negative",
        "answered",
        "answer_in_dump",
        "first_response_minutes",
    ),
    "unanswered": (
        "mention_id",
        "owner",
        "brand",
        "thread_id",
        "platform",
        "created_at",
        "reason",
        "sentiment_score",
        "text",
        "url",
        "author",
    ),
    "responsiveness": (
        "owner",
        "brand",
        "period",
        "cut",
        "cut_value",
        "needs_answer",
        "answered",
        "answered_not_in_dump",
        "response_rate",
        "response_rate_low",
        "response_rate_high",
        "first_response_minutes_median",
        "first_response_minutes_p90",
        "negative_needs_answer",
        "negative_response_rate",
        "abandoned_threads",
        "abandoned_channel",
        "owner_replies",
        "personal_reply_share",
    ),
    "trust_index": (
        "brand",
        "period",
        *(
            f"{name}{suffix}"
            for name in ("trust_index", "ability", "benevolence", "integrity")
            for suffix in ("", "_low", "_high")
        ),
        "ability_note",
        "benevolence_note",
        "integrity_note",
        "index_note",
        "threads",
        "n_audience",
    ),
    "trust_drivers": None,
    "ingest_accounting": None,
    "mention_topics": ("mention_id", "topic_id", "topic_label"),
    "topic_trends": (
        "topic_id",
        "topic_label",
        "period_start",
        "mentions",
        "share",
        "prev_share",
        "growth",
        "p_value",
        "rising",
        "net_sentiment",
    ),
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


def producing_assets() -> list[str]:
    """The assets whose tables the report reads, in reading order, each once."""
    return list(dict.fromkeys(TABLES[name].asset for name in (*REQUIRED, *OPTIONAL)))


def read_table(warehouse_dir: Path, name: str) -> pl.DataFrame | None:
    """The report's columns of one warehouse table, held to the contract; None when its parquet file is absent.
    Raises `trustpulse.tables.TableContractError` when a column drifted."""
    path = table_path(warehouse_dir, name)
    if not path.exists():
        return None
    return conform(pl.read_parquet(path), name, COLUMNS[name])


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
            table = pl.DataFrame(schema=schema_of(name, COLUMNS[name]))
        tables[name] = table
    return Warehouse(
        mentions=tables["mentions"],
        sentiment=tables["mention_sentiment"].unique("mention_id", keep="first"),
        # tables written before these columns were (`TableContract.added`): a reply counts as in the export,
        # none answered outside it
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
