"""The warehouse's table contract: every table's name, Polars schema and the asset that publishes it, and the
reporting period rows are labelled with.

Producers build their frames to these schemas, the asset checks hold the published files to them, and the
report reads through `conform` with strict casts: a drifted column fails loudly, naming its table and column,
instead of silently becoming null. Columns an earlier version did not write (`TableContract.added`) are the one
exception: absent from an old file, they read as null.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

UTC_TIMESTAMP = pl.Datetime("us", "UTC")

# raw_mentions: every record of a dump, as every reader produces it
RAW_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),  # "<dump key>:<record index>", unique across dumps
    "dump_file": pl.String(),
    "dump_key": pl.String(),  # partition key: file name + content hash
    "source_format": pl.String(),
    "record_index": pl.Int64(),  # 0-based order of the record in the dump
    "line_start": pl.Int64(),  # 1-based first line (or array index + 1 for JSON arrays)
    "line_end": pl.Int64(),
    "raw": pl.String(),  # the record exactly as it was in the dump (decoded)
    "kind": pl.String(),  # post | comment | message | boilerplate
    "native_id": pl.String(),
    "thread_native_id": pl.String(),
    "parent_native_id": pl.String(),
    "author_handle": pl.String(),
    "author_name": pl.String(),
    "created_at_raw": pl.String(),
    "text": pl.String(),
    "platform": pl.String(),
    "url": pl.String(),
    "reply_native_ids": pl.String(),  # ids of the replies the source says this record got (comma-separated)
    "owner_hint": pl.Boolean(),  # the source itself says who owes answers (twcs inbound == False)
    "duplicate_of_index": pl.Int64(),  # reader-detected repeat (blog dumps print comments twice)
    "parse_error": pl.String(),  # set when the record could not be parsed; it is then quarantined
    # set when the record is in the file but holds no mention (a Reddit `more` stub, a [deleted] body):
    # it is quarantined with exactly this reason
    "skip_reason": pl.String(),
    # something about the record a person should know but that does not stop it being kept
    # (an id Excel turned into scientific notation, a page with no recognisable comment structure)
    "reader_note": pl.String(),
}

# dump_manifest: one row per ingested dump (also for a dump with no records): what the accounting starts from
MANIFEST_SCHEMA: dict[str, pl.DataType] = {
    "dump_file": pl.String(),
    "dump_key": pl.String(),
    "source_format": pl.String(),
    "read_records": pl.Int64(),  # records the reader produced
    "file_records": pl.Int64(),  # records the file holds, counted from its structure (null: no such count)
    "reader_notes": pl.List(pl.String()),  # distinct caveats the reader noted on this dump's records
}

# mentions: the cleaned mention contract
MENTION_SCHEMA: dict[str, pl.DataType] = {
    "mention_id": pl.String(),
    "record_id": pl.String(),
    "dump_file": pl.String(),
    "dump_key": pl.String(),
    "source_format": pl.String(),
    "platform": pl.String(),
    "thread_id": pl.String(),
    "parent_id": pl.String(),
    "position": pl.Int64(),
    "author_id": pl.String(),
    "author": pl.String(),
    "is_owner": pl.Boolean(),
    "brand": pl.List(pl.String()),
    "mention_type": pl.String(),
    "created_at": UTC_TIMESTAMP,
    "text": pl.String(),
    "lang": pl.String(),
    "n_chars": pl.Int64(),
    "url": pl.String(),
    # replies the source says this mention got that are not in the dump (twcs `response_tweet_id`): the
    # mention was answered, the answer is just not in the export
    "replies_not_in_dump": pl.Int64(),
}
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "dump_file": pl.String(),
    "dump_key": pl.String(),
    "record_index": pl.Int64(),
    "line_start": pl.Int64(),
    "line_end": pl.Int64(),
    "reason": pl.String(),
    "raw": pl.String(),
}
DUPLICATE_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "dump_file": pl.String(),
    "dump_key": pl.String(),
    "duplicate_of": pl.String(),  # mention_id of the kept mention
    "rule": pl.String(),
    "similarity": pl.Float64(),
}

# ingest_accounting: per dump, where every raw record went
ACCOUNTING_SCHEMA: dict[str, pl.DataType] = {
    "dump_file": pl.String(),
    "dump_key": pl.String(),
    "source_format": pl.String(),
    "raw_records": pl.Int64(),  # what the file holds, counted from its structure (else what the reader read)
    "kept": pl.Int64(),
    "duplicates": pl.Int64(),
    "quarantined": pl.Int64(),
    "unread": pl.Int64(),  # raw_records - kept - duplicates - quarantined: records the reader missed
    "balanced": pl.Boolean(),
}

SENTIMENT_SCHEMA: dict[str, pl.DataType] = {
    "mention_id": pl.String(),
    "label": pl.String(),
    "p_negative": pl.Float64(),
    "p_neutral": pl.Float64(),
    "p_positive": pl.Float64(),
    "score": pl.Float64(),
    "model_id": pl.String(),
    "scored": pl.Boolean(),
    "not_scored_reason": pl.String(),  # "language": a text the model cannot read; its label is null
}

MENTION_TOPICS_SCHEMA: dict[str, pl.DataType] = {
    "mention_id": pl.String(),
    "topic_id": pl.Int64(),
    "topic_label": pl.String(),
    "topic_probability": pl.Float64(),
    "taxonomy_label": pl.String(),
    "taxonomy_score": pl.Float64(),
    "assigned": pl.String(),  # fitted (the model was fitted on this text) | nearest (assigned later)
    "topic_taxonomy_label": pl.String(),  # the taxonomy entry closest to the topic's centroid
}
# a topic as the topic model describes it (also the saved model's topics.parquet)
TOPIC_INFO_SCHEMA: dict[str, pl.DataType] = {
    "topic_id": pl.Int64(),
    "topic_label": pl.String(),
    "keywords": pl.List(pl.String()),
    "size": pl.Int64(),
    "phrases": pl.List(pl.String()),  # the label first, then more phrases of the topic (MMR-diverse)
}
# the business-taxonomy entry closest to a mention or topic, and that cosine similarity
TAXONOMY_SCHEMA: dict[str, pl.DataType] = {"taxonomy_label": pl.String(), "taxonomy_score": pl.Float64()}
# topics: one row per topic of the current model, with the taxonomy entry closest to its centroid
TOPICS_SCHEMA: dict[str, pl.DataType] = {**TOPIC_INFO_SCHEMA, **TAXONOMY_SCHEMA}
TREND_SCHEMA: dict[str, pl.DataType] = {
    "topic_id": pl.Int64(),
    "topic_label": pl.String(),
    "period_start": UTC_TIMESTAMP,
    "mentions": pl.Int64(),
    "period_mentions": pl.Int64(),
    "share": pl.Float64(),
    "prev_mentions": pl.Int64(),
    "prev_share": pl.Float64(),
    "growth": pl.Float64(),
    "z": pl.Float64(),
    "p_value": pl.Float64(),
    "rising": pl.Boolean(),
    "n_negative": pl.Int64(),
    "n_neutral": pl.Int64(),
    "n_positive": pl.Int64(),
    "net_sentiment": pl.Float64(),
}

NEEDS_ANSWER_SCHEMA: dict[str, pl.DataType] = {
    "mention_id": pl.String(),
    "owner": pl.String(),
    "brand": pl.String(),
    "thread_id": pl.String(),
    "platform": pl.String(),
    "author_id": pl.String(),
    "created_at": UTC_TIMESTAMP,
    "position": pl.Int64(),
    "reason": pl.String(),  # question | negative | direct (the first that applies)
    "is_question": pl.Boolean(),
    "is_negative": pl.Boolean(),
    "answered": pl.Boolean(),
    # False when the export says a reply exists but does not hold it: answered, with no time
    "answer_in_dump": pl.Boolean(),
    "answer_mention_id": pl.String(),
    "first_response_minutes": pl.Float64(),
    "sentiment_score": pl.Float64(),
}
# unanswered: the open needs_answer rows, worst first, with what the mention said and where
UNANSWERED_SCHEMA: dict[str, pl.DataType] = {
    **NEEDS_ANSWER_SCHEMA,
    "text": pl.String(),
    "url": pl.String(),
    "author": pl.String(),
}
COUNT = pl.UInt32()  # responsiveness counts are Polars' own (`pl.len()`, sums of booleans)
RESPONSIVENESS_SCHEMA: dict[str, pl.DataType] = {
    "owner": pl.String(),
    "brand": pl.String(),
    "period": pl.String(),
    "cut": pl.String(),  # all | platform | topic
    "cut_value": pl.String(),
    "needs_answer": COUNT,
    "answered": COUNT,
    "answered_not_in_dump": COUNT,  # answered, the reply not in the export (no response time)
    "response_rate": pl.Float64(),
    "response_rate_low": pl.Float64(),
    "response_rate_high": pl.Float64(),
    "first_response_minutes_median": pl.Float64(),
    "first_response_minutes_p90": pl.Float64(),
    "negative_needs_answer": COUNT,
    "negative_answered": COUNT,
    "negative_response_rate": pl.Float64(),
    "abandoned_threads": COUNT,
    "abandoned_channel": pl.Boolean(),
    "owner_replies": COUNT,
    "personal_replies": COUNT,
    "personal_reply_share": pl.Float64(),
    "recovery_n": COUNT,
    "sentiment_recovery": pl.Float64(),
}
TRUST_INDEX_SCHEMA: dict[str, pl.DataType] = {
    "brand": pl.String(),
    "period": pl.String(),
    "trust_index": pl.Float64(),
    "trust_index_low": pl.Float64(),  # seeded thread-bootstrap 95% interval
    "trust_index_high": pl.Float64(),
    "ability": pl.Float64(),
    "ability_low": pl.Float64(),
    "ability_high": pl.Float64(),
    "ability_note": pl.String(),  # why the component is null ("not enough data (...)")
    "benevolence": pl.Float64(),
    "benevolence_low": pl.Float64(),
    "benevolence_high": pl.Float64(),
    "benevolence_note": pl.String(),
    "integrity": pl.Float64(),
    "integrity_low": pl.Float64(),
    "integrity_high": pl.Float64(),
    "integrity_note": pl.String(),
    "index_note": pl.String(),
    "threads": pl.Int64(),
    # thread statistics the components are computed from (sums over the brand's threads in the period)
    "n_audience": pl.Float64(),
    "n_positive": pl.Float64(),
    "n_negative": pl.Float64(),
    "n_needs": pl.Float64(),
    "n_answered": pl.Float64(),
    "n_neg_needs": pl.Float64(),
    "n_neg_answered": pl.Float64(),
    "recovery_sum": pl.Float64(),
    "recovery_n": pl.Float64(),
    "n_abandoned_needs": pl.Float64(),
    "n_replies": pl.Float64(),
    "n_personal": pl.Float64(),
    "n_advocacy": pl.Float64(),
    "n_detraction": pl.Float64(),
}
DRIVER_SCHEMA: dict[str, pl.DataType] = {
    "brand": pl.String(),
    "period": pl.String(),
    "component": pl.String(),
    "direction": pl.String(),
    "mention_id": pl.String(),
    "impact": pl.Float64(),
    "why": pl.String(),
    "text": pl.String(),
}

DATASET_ASSET = "mention_dataset"  # publishes the dumps' partitions as one table each, plus the accounting


@dataclass(frozen=True)
class TableContract:
    """A warehouse table: `warehouse/<name>.parquet` (and, `per_dump`, `warehouse/partitions/<name>/`)."""

    name: str
    schema: Mapping[str, pl.DataType]
    asset: str | None  # the Dagster asset that publishes warehouse/<name>.parquet (None: partitions only)
    per_dump: bool = False  # also written per dump under partitions/, then published by `mention_dataset`
    added: frozenset[str] = frozenset()  # columns earlier versions did not write: absent there, read as null
    enriched_per_dump: bool = False  # each dump's rows also kept under partitions/ (work done once per dump)


TABLES: dict[str, TableContract] = {
    contract.name: contract
    for contract in (
        TableContract(
            "raw_mentions",
            RAW_SCHEMA,
            DATASET_ASSET,
            per_dump=True,
            added=frozenset({"reply_native_ids", "skip_reason", "reader_note"}),
        ),
        TableContract(
            "mentions", MENTION_SCHEMA, DATASET_ASSET, per_dump=True, added=frozenset({"replies_not_in_dump"})
        ),
        TableContract("quarantine", QUARANTINE_SCHEMA, DATASET_ASSET, per_dump=True),
        TableContract("duplicates", DUPLICATE_SCHEMA, DATASET_ASSET, per_dump=True),
        # written last for a dump: its presence marks the dump's partitions as complete
        TableContract(
            "dump_manifest",
            MANIFEST_SCHEMA,
            None,
            per_dump=True,
            added=frozenset({"read_records", "file_records", "reader_notes"}),
        ),
        TableContract("ingest_accounting", ACCOUNTING_SCHEMA, DATASET_ASSET),
        TableContract(
            "mention_sentiment",
            SENTIMENT_SCHEMA,
            "mention_sentiment",
            added=frozenset({"scored", "not_scored_reason"}),
            enriched_per_dump=True,
        ),
        TableContract("mention_topics", MENTION_TOPICS_SCHEMA, "mention_topics", enriched_per_dump=True),
        TableContract("topics", TOPICS_SCHEMA, "topic_model", added=frozenset({"phrases", *TAXONOMY_SCHEMA})),
        TableContract("topic_trends", TREND_SCHEMA, "topic_trends"),
        TableContract("needs_answer", NEEDS_ANSWER_SCHEMA, "needs_answer", added=frozenset({"answer_in_dump"})),
        TableContract("unanswered", UNANSWERED_SCHEMA, "unanswered", added=frozenset({"answer_in_dump"})),
        TableContract(
            "responsiveness", RESPONSIVENESS_SCHEMA, "responsiveness", added=frozenset({"answered_not_in_dump"})
        ),
        TableContract("trust_index", TRUST_INDEX_SCHEMA, "trust_index"),
        TableContract("trust_drivers", DRIVER_SCHEMA, "trust_drivers"),
    )
}


class TableContractError(ValueError):
    """A table that does not hold to its contract; the one-line message names the table and the column."""


def schema_of(table: str, columns: Sequence[str] | None = None) -> dict[str, pl.DataType]:
    """The contract's schema of `table`, or of its `columns` in that order."""
    schema = TABLES[table].schema
    return {name: schema[name] for name in (columns or schema)}


def _cast(column: pl.Series, dtype: pl.DataType) -> pl.Series:
    if isinstance(dtype, pl.Datetime) and column.dtype == pl.String():  # an ISO timestamp written as text
        return column.str.to_datetime(time_zone="UTC").cast(dtype)
    return column.cast(dtype)


def conform(df: pl.DataFrame, table: str, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """`df` as the contract's `table`: its `columns` (default: all), in that order, each strictly cast to its
    contract type. A column in `TableContract.added` reads as null where absent; any other absent column, or a
    value that cannot be cast, raises TableContractError naming the table and the column."""
    contract = TABLES[table]
    out = []
    for name, dtype in schema_of(table, columns).items():
        if name not in df.columns:
            if name not in contract.added:
                raise TableContractError(f"table {table}: column {name} ({dtype}) is missing")
            out.append(pl.Series(name, [None] * df.height, dtype=dtype))
            continue
        column = df.get_column(name)
        try:
            out.append(_cast(column, dtype))
        except pl.exceptions.PolarsError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TableContractError(
                f"table {table}: column {name} holds {column.dtype} that cannot be cast to {dtype}: {reason}"
            ) from exc
    return pl.DataFrame(out)


# ---- reporting periods ----------------------------------------------------------------------------------------
# Rows are labelled with the period their timestamp falls in: its UTC start date (weeks start on Monday, months
# on the 1st), 'undated' without a timestamp, or 'all' for the whole window.

PERIOD_GRAINS: dict[str, str] = {"day": "1d", "week": "1w", "month": "1mo"}  # grain -> Polars interval
ALL_PERIODS = "all"
UNDATED = "undated"
PERIOD_LABEL_FORMAT = "%Y-%m-%d"


def period_interval(grain: str) -> str:
    """The Polars interval ('1w') of a period grain ('week')."""
    if grain not in PERIOD_GRAINS:
        raise ValueError(f"period must be one of {list(PERIOD_GRAINS)}, got {grain!r}")
    return PERIOD_GRAINS[grain]


def period_start(timestamps: pl.Expr, grain: str) -> pl.Expr:
    """The UTC start of the day / week (Monday) / month each timestamp falls in; null stays null."""
    return timestamps.dt.truncate(period_interval(grain))


def period_label(column: str, grain: str) -> pl.Expr:
    """Period label of a UTC timestamp column: its period's start date (ISO), 'undated' when null, or 'all'."""
    if grain == ALL_PERIODS:
        return pl.lit(ALL_PERIODS)
    return period_start(pl.col(column), grain).dt.strftime(PERIOD_LABEL_FORMAT).fill_null(UNDATED)


def period_bounds(label: str, grain: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a dated period label ('2026-10-19') at its grain: the timestamps `period_label`
    gives that label (for SQL, which cannot call the Polars helper)."""
    start = datetime.strptime(label, PERIOD_LABEL_FORMAT).replace(tzinfo=UTC)
    end = pl.select(pl.lit(start, dtype=UTC_TIMESTAMP).dt.offset_by(period_interval(grain))).item()
    return start, end.astimezone(UTC)
