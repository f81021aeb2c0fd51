"""Data-quality rules behind the Dagster asset checks: pure functions, Polars in, findings out."""

from __future__ import annotations

import polars as pl


def contract_violations(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> list[str]:
    """Missing columns and columns of the wrong type."""
    problems = [f"missing column {name}" for name in schema if name not in df.columns]
    problems += [
        f"{name}: {df.schema[name]} instead of {dtype}"
        for name, dtype in schema.items()
        if name in df.columns and df.schema[name] != dtype
    ]
    return problems


def duplicated_values(df: pl.DataFrame, column: str) -> list[str]:
    """Values of `column` that occur more than once (nulls included)."""
    counts = df.group_by(column).len().filter(pl.col("len") > 1)
    return [str(v) for v in counts[column].to_list()]


def unbalanced_dumps(accounting: pl.DataFrame) -> list[str]:
    """Dumps where raw records (what the file holds) != kept + duplicates + quarantined."""
    bad = accounting.filter(pl.col("raw_records") != pl.col("kept") + pl.col("duplicates") + pl.col("quarantined"))
    return bad["dump_file"].to_list()


def quarantine_share(accounting: pl.DataFrame) -> float:
    raw = accounting["raw_records"].sum()
    return float(accounting["quarantined"].sum() / raw) if raw else 0.0


def label_shares(sentiment: pl.DataFrame) -> dict[str, float]:
    """Share of each label among the scored mentions (a text the model cannot read has no label)."""
    sentiment = sentiment.filter(pl.col("label").is_not_null())
    if sentiment.is_empty():
        return {}
    counts = sentiment.group_by("label").len()
    total = counts["len"].sum()
    return {row["label"]: row["len"] / total for row in counts.iter_rows(named=True)}


def total_variation(previous: dict[str, float], current: dict[str, float]) -> float:
    """Half the L1 distance between two label distributions (0 = same mix, 1 = disjoint)."""
    labels = set(previous) | set(current)
    return 0.5 * sum(abs(previous.get(k, 0.0) - current.get(k, 0.0)) for k in labels)


def records_unaccounted(raw_records: int, kept: int, duplicates: int, quarantined: int) -> str | None:
    """What is wrong when a cleaned dump's records do not each end in exactly one of kept, duplicates and
    quarantine, or None when they do."""
    if raw_records == kept + duplicates + quarantined:
        return None
    return (
        f"{raw_records:,} raw records but {kept:,} kept + {duplicates:,} duplicates + {quarantined:,} quarantined "
        f"= {kept + duplicates + quarantined:,}"
    )
