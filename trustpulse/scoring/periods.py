"""Reporting periods: the week (Monday) / day / month a mention falls in, or 'all'."""

from __future__ import annotations

import polars as pl

GRAINS = {"day": "1d", "week": "1w", "month": "1mo"}
ALL = "all"
UNDATED = "undated"


def period_expr(column: str, grain: str) -> pl.Expr:
    """Period label of a UTC timestamp column: its start date (ISO), 'undated' when null, or 'all'."""
    if grain == ALL:
        return pl.lit(ALL)
    if grain not in GRAINS:
        raise ValueError(f"period must be one of {[*GRAINS, ALL]}, got {grain!r}")
    return pl.col(column).dt.truncate(GRAINS[grain]).dt.strftime("%Y-%m-%d").fill_null(UNDATED)
