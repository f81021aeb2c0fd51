"""The mentions that moved each trust component most (`trust_drivers`), so every number in the report
links back to what people actually said."""

from __future__ import annotations

import polars as pl

from trustpulse.settings import ScoringConfig
from trustpulse.tables import DRIVER_SCHEMA, period_label

EXCERPT = 280


def _top(
    df: pl.DataFrame,
    component: str,
    direction: str,
    *,
    why: str,
    impact: pl.Expr,
    order: list[str],
    descending: list[bool],
    n: int,
) -> pl.DataFrame:
    if df.is_empty():
        return pl.DataFrame(schema=DRIVER_SCHEMA)
    return (
        df.with_columns(impact=impact)
        .sort(["brand", "period", *order], descending=[False, False, *descending], nulls_last=True)
        .group_by("brand", "period", maintain_order=True)
        .head(n)
        .select(
            "brand",
            "period",
            pl.lit(component).alias("component"),
            pl.lit(direction).alias("direction"),
            "mention_id",
            pl.col("impact").cast(pl.Float64),
            pl.lit(why).alias("why"),
            pl.col("text").str.slice(0, EXCERPT),
        )
    )


def _audience_mentions(scored: pl.DataFrame, grain: str) -> pl.DataFrame:
    """Non-owner mentions, one row per brand named, with `period` and `n_period`: how many of the brand's
    mentions in that period the sentiment model labelled (ability's denominator)."""
    return (
        scored.filter(~pl.col("is_owner"))
        .explode("brand")
        .filter(pl.col("brand").is_not_null())
        .with_columns(period=period_label("created_at", grain))
        .with_columns(n_period=pl.col("label").is_not_null().sum().over("brand", "period"))
    )


def _needs_with_text(scored: pl.DataFrame, needs: pl.DataFrame, grain: str) -> pl.DataFrame:
    """Mentions needing an answer from a brand, with their text, `period` and `n_period`: how many mentions
    needed an answer from the brand in that period."""
    return (
        needs.filter(pl.col("brand").is_not_null())
        .join(scored.select("mention_id", "text"), on="mention_id")
        .with_columns(period=period_label("created_at", grain))
        .with_columns(n_period=pl.len().over("brand", "period"))
    )


def _ability_drivers(audience: pl.DataFrame, n: int) -> list[pl.DataFrame]:
    """Most negative and most positive audience mentions, each moving ability (0-100, 50 when neutral) by
    50 * its sentiment score / the period's labelled mentions. Only mentions the model labelled negative or
    positive are named as such: a neutral one (score +0.01, say) moves ability by next to nothing and would be
    misdescribed as a "positive audience mention"."""
    impact = 50 * pl.col("score") / pl.col("n_period")
    return [
        _top(
            audience.filter(pl.col("label") == "negative"),
            "ability",
            "-",
            why="negative audience mention",
            impact=impact,
            order=["score"],
            descending=[False],
            n=n,
        ),
        _top(
            audience.filter(pl.col("label") == "positive"),
            "ability",
            "+",
            why="positive audience mention",
            impact=impact,
            order=["score"],
            descending=[True],
            n=n,
        ),
    ]


def _benevolence_drivers(need_rows: pl.DataFrame, config: ScoringConfig, n: int) -> list[pl.DataFrame]:
    """Unanswered mentions (most negative, then newest first) and the fastest answered ones: each moves the
    response rate by 1 / the period's mentions needing an answer, weighted by the response rate's share of
    the benevolence weights."""
    weights = config.benevolence_weights
    response_rate_weight = weights.get("response_rate", 0) / max(sum(weights.values()), 1e-9)
    return [
        _top(
            need_rows.filter(~pl.col("answered")),
            "benevolence",
            "-",
            why="unanswered",
            impact=-100 * response_rate_weight / pl.col("n_period"),
            order=["sentiment_score", "created_at"],
            descending=[False, True],
            n=n,
        ),
        _top(
            need_rows.filter(pl.col("answered")),
            "benevolence",
            "+",
            why="answered",
            impact=100 * response_rate_weight / pl.col("n_period"),
            order=["first_response_minutes"],
            descending=[False],
            n=n,
        ),
    ]


def _integrity_drivers(
    audience: pl.DataFrame,
    need_rows: pl.DataFrame,
    replies: pl.DataFrame,
    abandoned_ids: set[str],
    grain: str,
    n: int,
) -> list[pl.DataFrame]:
    """Mentions left in an abandoned thread or channel run, the owner's canned replies, and the audience
    mentions that recommend or warn away from the brand."""
    reply_rows = replies.filter(pl.col("brand").is_not_null()).with_columns(period=period_label("created_at", grain))
    return [
        _top(
            need_rows.filter(pl.col("mention_id").is_in(list(abandoned_ids))),
            "integrity",
            "-",
            why="left unanswered after the owner walked away",
            impact=-100 / pl.col("n_period"),
            order=["sentiment_score", "created_at"],
            descending=[False, True],
            n=n,
        ),
        _top(
            reply_rows.filter(~pl.col("is_personal")).with_columns(n_period=pl.len().over("brand", "period")),
            "integrity",
            "-",
            why="canned reply (near-copy of another)",
            impact=-100 / pl.col("n_period"),
            order=["created_at"],
            descending=[True],
            n=n,
        ),
        _top(
            audience.filter(pl.col("advocacy")),
            "integrity",
            "+",
            why="recommends or defends the brand",
            impact=pl.lit(1.0),
            order=["score"],
            descending=[True],
            n=n,
        ),
        _top(
            audience.filter(pl.col("detraction")),
            "integrity",
            "-",
            why="warns others away",
            impact=pl.lit(-1.0),
            order=["score"],
            descending=[False],
            n=n,
        ),
    ]


def build_trust_drivers(
    scored: pl.DataFrame,
    needs: pl.DataFrame,
    replies: pl.DataFrame,
    abandoned_ids: set[str],
    config: ScoringConfig,
    grain: str,
) -> pl.DataFrame:
    """Per brand x period x component: the top mentions pulling it down (-) and up (+).

    impact is the mention's share of the component's 0-100 scale (e.g. one negative mention among 40
    moves ability by 50 * (-1) / 40 = -1.25 points)."""
    n = config.drivers_per_component
    audience = _audience_mentions(scored, grain)
    need_rows = _needs_with_text(scored, needs, grain)
    parts = [
        *_ability_drivers(audience, n),
        *_benevolence_drivers(need_rows, config, n),
        *_integrity_drivers(audience, need_rows, replies, abandoned_ids, grain, n),
    ]
    return pl.concat([p.cast(DRIVER_SCHEMA) for p in parts]).sort("brand", "period", "component", "direction")
