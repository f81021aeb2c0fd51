"""Number formatting for cards, tables and sentences (plain text: escape before use in HTML)."""

import math

DASH = "–"


def minutes(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if value < 90:
        return f"{value:.0f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


def number(value: float | None, unit: str) -> str:
    """A value in its unit: count, points (signed), index (0-100), pct, minutes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "points":
        return f"{value:+.0f}"
    if unit == "index":
        return f"{value:.1f}"
    if unit == "pct":
        return f"{value:.0f}%"
    if unit == "minutes":
        return minutes(value)
    return f"{value:.2f}"


# An interval narrower than this is of zero width: it says nothing about uncertainty and is never printed.
ZERO_WIDTH = 1e-9


def interval(low: float | None, high: float | None, unit: str) -> str:
    """'95% CI 40–60%'; empty when there is no interval or it has zero width."""
    if low is None or high is None or high - low <= ZERO_WIDTH:
        return ""
    if unit == "pct":
        return f"95% CI {low:.0f}–{high:.0f}%"
    if unit == "points":
        return f"95% CI {low:+.0f} to {high:+.0f}"
    return f"95% CI {number(low, unit)}–{number(high, unit)}"


def delta(change: float | None, unit: str, previous: float | None = None) -> str:
    """'+3.2 pts', '−12%' (counts: relative), '+25 min'."""
    if change is None:
        return DASH
    if unit == "count":
        if not previous:
            return f"{change:+,.0f}"
        return f"{100 * change / previous:+.0f}%"
    if unit == "pct":
        return f"{change:+.0f} pts"
    if unit == "points":
        return f"{change:+.0f} pts"
    if unit == "index":
        return f"{change:+.1f} pts"
    if unit == "minutes":
        sign = "+" if change >= 0 else "−"
        return f"{sign}{minutes(abs(change))}"
    return f"{change:+.2f}"


# Changes smaller than this (in the unit shown) read as "no change".
FLAT = {"count": 0.5, "points": 0.5, "index": 0.05, "pct": 0.5, "minutes": 0.5}


def is_flat(change: float, unit: str) -> bool:
    return abs(change) < FLAT.get(unit, 1e-9)


def share(part: int, whole: int) -> str:
    return DASH if not whole else f"{100 * part / whole:.0f}%"
