"""The mentions that moved each trust component most (`trust_drivers`), so every number in the report
links back to what people actually said."""

from __future__ import annotations

import polars as pl

from trustpulse.settings import ScoringConfig
from trustpulse.tables import DRIVER_SCHEMA
from trustpulse.tables import period_label as period_expr

EXCERPT = 280


def _top(
    df: pl.DataFrame,
    component: str,
    direction: str,
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
    audience = (
        scored.filter(~pl.col("is_owner"))
        .explode("brand")
        .filter(pl.col("brand").is_not_null())
        .with_columns(period=period_expr("created_at", grain))
        .with_columns(n_period=pl.col("label").is_not_null().sum().over("brand", "period"))
    )
    need_rows = (
        needs.filter(pl.col("brand").is_not_null())
        .join(scored.select("mention_id", "text"), on="mention_id")
        .with_columns(period=period_expr("created_at", grain))
        .with_columns(n_period=pl.len().over("brand", "period"))
    )
    w_rr = config.benevolence_weights.get("response_rate", 0) / max(sum(config.benevolence_weights.values()), 1e-9)
    unanswered = need_rows.filter(~pl.col("answered"))
    answered = need_rows.filter(pl.col("answered"))
    abandoned = need_rows.filter(pl.col("mention_id").is_in(list(abandoned_ids)))
    reply_rows = replies.filter(pl.col("brand").is_not_null()).with_columns(period=period_expr("created_at", grain))
    parts = [
        _top(
            audience.filter(pl.col("score") < 0),
            "ability",
            "-",
            "negative audience mention",
            50 * pl.col("score") / pl.col("n_period"),
            ["score"],
            [False],
            n,
        ),
        _top(
            audience.filter(pl.col("score") > 0),
            "ability",
            "+",
            "positive audience mention",
            50 * pl.col("score") / pl.col("n_period"),
            ["score"],
            [True],
            n,
        ),
        _top(
            unanswered,
            "benevolence",
            "-",
            "unanswered",
            -100 * w_rr / pl.col("n_period"),
            ["sentiment_score", "created_at"],
            [False, True],
            n,
        ),
        _top(
            answered,
            "benevolence",
            "+",
            "answered",
            100 * w_rr / pl.col("n_period"),
            ["first_response_minutes"],
            [False],
            n,
        ),
        _top(
            abandoned,
            "integrity",
            "-",
            "left unanswered after the owner walked away",
            -100 / pl.col("n_period"),
            ["sentiment_score", "created_at"],
            [False, True],
            n,
        ),
        _top(
            reply_rows.filter(~pl.col("is_personal")).with_columns(n_period=pl.len().over("brand", "period")),
            "integrity",
            "-",
            "canned reply (near-copy of another)",
            -100 / pl.col("n_period"),
            ["created_at"],
            [True],
            n,
        ),
        _top(
            audience.filter(pl.col("advocacy")),
            "integrity",
            "+",
            "recommends or defends the brand",
            pl.lit(1.0),
            ["score"],
            [True],
            n,
        ),
        _top(
            audience.filter(pl.col("detraction")),
            "integrity",
            "-",
            "warns others away",
            pl.lit(-1.0),
            ["score"],
            [False],
            n,
        ),
    ]
    return pl.concat([p.cast(DRIVER_SCHEMA) for p in parts]).sort("brand", "period", "component", "direction")
