"""Topics over time: mentions and sentiment mix per topic x period, and rising topics.

Rising rule (one-sided two-proportion z-test): a topic is *rising* in a period when its share of that
period's dated mentions is higher than its share of the previous period's, with p < `alpha` under the
pooled two-proportion z-test, and it has at least `min_mentions` mentions in the period. The outlier
topic (-1) is never rising. Undated mentions are left out of the trends. Every topic gets a row for
every period between the first and the last (zero mentions included), so growth is always defined
against the period just before.
"""

from __future__ import annotations

import math

import polars as pl

from trustpulse.tables import TREND_SCHEMA, UTC_TIMESTAMP, period_interval, period_start


def two_proportion_p(x1: int, n1: int, x0: int, n0: int) -> tuple[float | None, float | None]:
    """z and one-sided p-value for H1: x1/n1 > x0/n0 (pooled variance). None when undefined."""
    if n1 <= 0 or n0 <= 0:
        return None, None
    pooled = (x1 + x0) / (n1 + n0)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if var <= 0:
        return None, None
    z = (x1 / n1 - x0 / n0) / math.sqrt(var)
    return z, 0.5 * math.erfc(z / math.sqrt(2))


def topic_trends(
    mention_topics: pl.DataFrame,
    mentions: pl.DataFrame,
    sentiment: pl.DataFrame | None = None,
    period: str = "week",
    alpha: float = 0.05,
    min_mentions: int = 10,
) -> pl.DataFrame:
    """`mention_topics` (mention_id, topic_id, topic_label) + `mentions` (mention_id, created_at) +
    optional `sentiment` (mention_id, label) -> one row per topic x period (TREND_SCHEMA)."""
    interval = period_interval(period)
    dated = (
        mention_topics.select("mention_id", "topic_id", "topic_label")
        .join(mentions.select("mention_id", "created_at"), on="mention_id", how="inner")
        .filter(pl.col("created_at").is_not_null())
        .with_columns(period_start=period_start(pl.col("created_at").cast(UTC_TIMESTAMP), period))
    )
    if dated.height == 0:
        return pl.DataFrame(schema=TREND_SCHEMA)
    has_sentiment = sentiment is not None and {"mention_id", "label"} <= set(sentiment.columns)
    if has_sentiment:
        dated = dated.join(sentiment.select("mention_id", "label").unique("mention_id"), on="mention_id", how="left")
    else:
        dated = dated.with_columns(label=pl.lit(None, dtype=pl.String))

    counts = dated.group_by("topic_id", "period_start").agg(
        mentions=pl.len(),
        n_negative=(pl.col("label") == "negative").sum().cast(pl.Int64),
        n_neutral=(pl.col("label") == "neutral").sum().cast(pl.Int64),
        n_positive=(pl.col("label") == "positive").sum().cast(pl.Int64),
        n_scored=pl.col("label").is_not_null().sum().cast(pl.Int64),
    )
    first, last = dated["period_start"].min(), dated["period_start"].max()
    periods = pl.DataFrame(
        {"period_start": pl.datetime_range(first, last, interval, eager=True, time_zone="UTC")}
    ).with_columns(pl.col("period_start").cast(UTC_TIMESTAMP))
    labels = dated.group_by("topic_id").agg(pl.col("topic_label").first())
    grid = (
        labels.join(periods, how="cross")
        .join(counts, on=["topic_id", "period_start"], how="left")
        .with_columns(pl.col("mentions", "n_negative", "n_neutral", "n_positive", "n_scored").fill_null(0))
        .join(dated.group_by("period_start").agg(period_mentions=pl.len()), on="period_start", how="left")
        .with_columns(pl.col("period_mentions").fill_null(0).cast(pl.Int64))
        .sort("topic_id", "period_start")
        .with_columns(
            share=pl.when(pl.col("period_mentions") > 0)
            .then(pl.col("mentions") / pl.col("period_mentions"))
            .otherwise(None),
            prev_mentions=pl.col("mentions").shift(1).over("topic_id"),
            prev_period_mentions=pl.col("period_mentions").shift(1).over("topic_id"),
        )
        .with_columns(
            prev_share=pl.col("share").shift(1).over("topic_id"),
            growth=pl.when(pl.col("prev_mentions") > 0)
            .then(pl.col("mentions") / pl.col("prev_mentions") - 1)
            .otherwise(None),
        )
    )
    z_p = [
        two_proportion_p(x1, n1, x0, n0) if x0 is not None and n0 is not None else (None, None)
        for x1, n1, x0, n0 in grid.select(
            "mentions", "period_mentions", "prev_mentions", "prev_period_mentions"
        ).iter_rows()
    ]
    grid = grid.with_columns(
        z=pl.Series([z for z, _ in z_p], dtype=pl.Float64),
        p_value=pl.Series([p for _, p in z_p], dtype=pl.Float64),
    ).with_columns(
        rising=(
            (pl.col("topic_id") != -1)
            & (pl.col("mentions") >= min_mentions)
            & pl.col("p_value").is_not_null()
            & (pl.col("p_value") < alpha)
        ).fill_null(False),
    )
    if has_sentiment:
        net = (
            pl.when(pl.col("n_scored") > 0)
            .then((pl.col("n_positive") - pl.col("n_negative")) / pl.col("n_scored"))
            .otherwise(None)
        )
        grid = grid.with_columns(net_sentiment=net)
    else:
        grid = grid.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(c) for c in ("n_negative", "n_neutral", "n_positive")
        ).with_columns(net_sentiment=pl.lit(None, dtype=pl.Float64))
    return grid.select(list(TREND_SCHEMA)).cast(TREND_SCHEMA)
