"""Trust index per brand x period: ability, benevolence, integrity (Mayer, Davis & Schoorman 1995).

Each component is 0-100, computed from per-thread counts so that the bootstrap can resample threads
(the unit in which mentions are dependent). Formulas and defaults: docs/methodology.md ("Trust index").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustpulse.settings import ScoringConfig
from trustpulse.tables import ALL_PERIODS, TRUST_INDEX_SCHEMA, period_label

COMPONENTS = ("ability", "benevolence", "integrity")
NOT_ENOUGH = "not enough data"
STAT_COLUMNS = (
    "n_audience",
    "n_positive",
    "n_negative",
    "n_needs",
    "n_answered",
    "n_neg_needs",
    "n_neg_answered",
    "recovery_sum",
    "recovery_n",
    "n_abandoned_needs",
    "n_replies",
    "n_personal",
    "n_advocacy",
    "n_detraction",
)


@dataclass(frozen=True)
class Components:
    ability: float | None
    benevolence: float | None
    integrity: float | None
    index: float | None


def _weighted(parts: dict[str, float | None], weights: dict[str, float]) -> float | None:
    available = {k: v for k, v in parts.items() if v is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in available)
    return 100 * sum(weights[k] * v for k, v in available.items()) / total if total else None


def response_time_score(median_minutes: float | None, horizon: float) -> float | None:
    """1 for an instant answer, 0 at the horizon or slower, logarithmic in between."""
    if median_minutes is None or math.isnan(median_minutes):
        return None
    return min(1.0, max(0.0, 1 - math.log1p(max(0.0, median_minutes)) / math.log1p(horizon)))


def weighted_median(sorted_values: np.ndarray, weights: np.ndarray) -> float | None:
    """`np.median` of `sorted_values` with each value repeated `weights` times (None when nothing is left),
    without building the repeated array: a bootstrap sample of threads weights each thread's values by how
    often it was drawn."""
    total = int(weights.sum())
    if total == 0:
        return None
    cumulative = np.cumsum(weights)
    low = sorted_values[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
    high = sorted_values[np.searchsorted(cumulative, total // 2, side="right")]
    return float((low + high) / 2)


def components_from_stats(s: dict[str, float], median_minutes: float | None, config: ScoringConfig) -> Components:
    """The three components and the index from summed thread stats and the median first-response time."""
    ability = None
    if s["n_audience"] >= config.min_mentions_ability:
        ability = 50 * (1 + (s["n_positive"] - s["n_negative"]) / s["n_audience"])
    benevolence = None
    if s["n_needs"] >= config.min_needs_benevolence:
        benevolence = _weighted(
            {
                "response_rate": s["n_answered"] / s["n_needs"],
                "negative_response_rate": s["n_neg_answered"] / s["n_neg_needs"] if s["n_neg_needs"] else None,
                "response_time": response_time_score(median_minutes, config.response_time_horizon_minutes),
                "recovery": min(1.0, max(0.0, 0.5 + s["recovery_sum"] / s["recovery_n"] / 2))
                if s["recovery_n"]
                else None,
            },
            config.benevolence_weights,
        )
    integrity = None
    if s["n_needs"] + s["n_replies"] + s["n_advocacy"] + s["n_detraction"] >= config.min_signals_integrity:
        integrity = _weighted(
            {
                "consistency": 1 - s["n_abandoned_needs"] / s["n_needs"] if s["n_needs"] else None,
                "personal_replies": s["n_personal"] / s["n_replies"] if s["n_replies"] else None,
                "advocacy": (s["n_advocacy"] + 1) / (s["n_advocacy"] + s["n_detraction"] + 2),
            },
            config.integrity_weights,
        )
    values = {"ability": ability, "benevolence": benevolence, "integrity": integrity}
    index = (
        _weighted({k: v / 100 for k, v in values.items() if v is not None}, config.weights)
        if all(v is not None for v in values.values())
        else None
    )
    return Components(ability, benevolence, integrity, index)


def thread_stats(
    scored: pl.DataFrame,
    needs: pl.DataFrame,
    replies: pl.DataFrame,
    abandoned_ids: set[str],
    recovery: pl.DataFrame,
    grain: str,
) -> pl.DataFrame:
    """Per brand x period x thread: the counts every component is computed from."""
    audience = (
        scored.filter(~pl.col("is_owner"))
        .explode("brand")
        .filter(pl.col("brand").is_not_null())
        .with_columns(period=period_label("created_at", grain))
        .group_by("brand", "period", "thread_id")
        .agg(
            # ability is net sentiment over the mentions the model scored (a text in a language it cannot
            # read has no label: it is neither positive, negative nor neutral)
            pl.col("label").is_not_null().sum().alias("n_audience"),
            (pl.col("label") == "positive").sum().alias("n_positive"),
            (pl.col("label") == "negative").sum().alias("n_negative"),
            pl.col("advocacy").sum().alias("n_advocacy"),
            pl.col("detraction").sum().alias("n_detraction"),
        )
    )
    need_stats = (
        needs.filter(pl.col("brand").is_not_null())
        .join(recovery, on="mention_id", how="left")
        .with_columns(
            period=period_label("created_at", grain), abandoned=pl.col("mention_id").is_in(list(abandoned_ids))
        )
        .group_by("brand", "period", "thread_id")
        .agg(
            pl.len().alias("n_needs"),
            pl.col("answered").sum().alias("n_answered"),
            pl.col("is_negative").sum().alias("n_neg_needs"),
            (pl.col("is_negative") & pl.col("answered")).sum().alias("n_neg_answered"),
            pl.col("recovery").sum().alias("recovery_sum"),
            pl.col("recovery").count().alias("recovery_n"),
            pl.col("abandoned").sum().alias("n_abandoned_needs"),
            pl.col("first_response_minutes").drop_nulls().alias("minutes"),
        )
    )
    reply_stats = (
        replies.filter(pl.col("brand").is_not_null())
        .with_columns(period=period_label("created_at", grain))
        .group_by("brand", "period", "thread_id")
        .agg(pl.len().alias("n_replies"), pl.col("is_personal").sum().alias("n_personal"))
    )
    keys = ["brand", "period", "thread_id"]
    stats = audience.join(need_stats, on=keys, how="full", coalesce=True).join(
        reply_stats, on=keys, how="full", coalesce=True
    )
    return stats.with_columns(
        [pl.col(c).fill_null(0).cast(pl.Float64) for c in STAT_COLUMNS]
        + [pl.col("minutes").fill_null(pl.lit([], dtype=pl.List(pl.Float64)))]
    )


def build_trust_index(stats: pl.DataFrame, config: ScoringConfig) -> pl.DataFrame:
    """Components, index and seeded thread-bootstrap 95% intervals per brand x period."""
    rng = np.random.default_rng(config.seed)
    rows = []
    for (brand, period), group in stats.sort("brand", "period", "thread_id").group_by(
        "brand", "period", maintain_order=True
    ):
        matrix = group.select(STAT_COLUMNS).to_numpy()
        per_thread = group["minutes"].to_list()
        n = len(per_thread)
        minutes = np.array([m for thread in per_thread for m in thread], dtype=float)
        order = np.argsort(minutes, kind="stable")
        sorted_minutes = minutes[order]
        thread_of_minute = np.repeat(np.arange(n), [len(thread) for thread in per_thread])[order]
        totals = dict(zip(STAT_COLUMNS, matrix.sum(axis=0), strict=True))
        point = components_from_stats(totals, weighted_median(sorted_minutes, np.ones(minutes.size)), config)
        reps: dict[str, list[float]] = {k: [] for k in (*COMPONENTS, "index")}
        for _ in range(config.bootstrap_samples if n > 1 else 0):
            drawn = np.bincount(rng.integers(0, n, n), minlength=n)  # times each thread is in the sample
            sample = dict(zip(STAT_COLUMNS, drawn @ matrix, strict=True))
            c = components_from_stats(sample, weighted_median(sorted_minutes, drawn[thread_of_minute]), config)
            for key in reps:
                value = getattr(c, key)
                if value is not None:
                    reps[key].append(value)
        row = {"brand": brand, "period": period, "threads": n, **totals}
        for key in (*COMPONENTS, "index"):
            value = getattr(point, key)
            name = "trust_index" if key == "index" else key
            low, high = (
                np.percentile(reps[key], [2.5, 97.5]) if value is not None and len(reps[key]) >= 20 else (None, None)
            )
            row[name] = value
            row[f"{name}_low"] = None if low is None else float(low)
            row[f"{name}_high"] = None if high is None else float(high)
        for key in COMPONENTS:
            row[f"{key}_note"] = None if row[key] is not None else _shortfall(key, totals, config)
        missing = [k for k in COMPONENTS if row[k] is None]
        row["index_note"] = f"{NOT_ENOUGH}: {', '.join(missing)}" if missing else None
        rows.append(row)
    if not rows:
        return pl.DataFrame(schema=TRUST_INDEX_SCHEMA)
    return pl.DataFrame(rows, infer_schema_length=None).select(list(TRUST_INDEX_SCHEMA)).cast(TRUST_INDEX_SCHEMA)


def _shortfall(component: str, s: dict[str, float], config: ScoringConfig) -> str:
    if component == "ability":
        return f"{NOT_ENOUGH} ({int(s['n_audience'])} audience mentions < {config.min_mentions_ability})"
    if component == "benevolence":
        return f"{NOT_ENOUGH} ({int(s['n_needs'])} mentions needing an answer < {config.min_needs_benevolence})"
    signals = int(s["n_needs"] + s["n_replies"] + s["n_advocacy"] + s["n_detraction"])
    return f"{NOT_ENOUGH} ({signals} signals < {config.min_signals_integrity})"


def periods_for(config: ScoringConfig) -> list[str]:
    return [config.period] if config.period == ALL_PERIODS else [config.period, ALL_PERIODS]
