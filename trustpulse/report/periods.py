"""The report period: which period the KPIs describe, the one before it, and the timeline of the charts.

Period labels are the table contract's (`trustpulse.tables.period_label`), as the scoring tables write them: the
ISO date a period starts on ('YYYY-MM-DD'), 'all' or 'undated'. The grain (day / week / month) is read back from
the labels themselves.
"""

import re
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import polars as pl

from trustpulse.tables import ALL_PERIODS

LATEST = "latest"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_dated(label: object) -> bool:
    return isinstance(label, str) and bool(_ISO.match(label))


def infer_grain(labels: list[str]) -> str:
    """'day', 'week' or 'month' of period labels (their start dates). Weeks start on Mondays and months on the
    1st, so the weekdays and days of the labels decide; only labels that are all Mondays on the 1st fall back
    to the gaps between them. Sparse data (two weeks six years apart) is still weeks."""
    days = sorted(date.fromisoformat(label) for label in set(labels) if is_dated(label))
    if not days:
        return "week"
    mondays = all(d.weekday() == 0 for d in days)
    firsts = all(d.day == 1 for d in days)
    if mondays != firsts:
        return "week" if mondays else "month"
    if not mondays:
        return "day"
    if len(days) >= 2:
        return "week" if min((b - a).days for a, b in pairwise(days)) < 28 else "month"
    return "week"


def describe(label: str | None, grain: str) -> str:
    """'week of 2 Nov 2026', 'October 2026', '3 Nov 2026', 'all periods'."""
    if label is None:
        return "no earlier period"
    if not is_dated(label):
        return "all periods" if label == ALL_PERIODS else label
    day = date.fromisoformat(label)
    text = f"{day.day} {day:%b %Y}"
    if grain == "week":
        return f"week of {text}"
    if grain == "month":
        return f"{day:%B %Y}"
    return text


@dataclass(frozen=True)
class ReportPeriod:
    label: str
    previous: str | None
    grain: str
    timeline: tuple[str, ...]

    @property
    def title(self) -> str:
        return describe(self.label, self.grain)

    @property
    def previous_title(self) -> str:
        return describe(self.previous, self.grain)

    @property
    def is_all(self) -> bool:
        return self.label == ALL_PERIODS


def resolve_period(requested: str, trust: pl.DataFrame, mention_labels: list[str], grain: str) -> ReportPeriod:
    """The period the report describes.

    `requested`: 'latest' (or empty) picks the latest period in which the most brands have a trust index (so a
    half-filled last week does not push the report onto a period with 'not enough data' everywhere); 'all'
    covers the whole window with no comparison; a period label picks that period.
    """
    timeline = tuple(
        sorted({*(p for p in trust["period"].to_list() if is_dated(p)), *filter(is_dated, mention_labels)})
    )
    wanted = (requested or LATEST).strip()
    if wanted == ALL_PERIODS or not timeline:
        return ReportPeriod(ALL_PERIODS, None, grain, timeline)
    if wanted == LATEST:
        scored = (
            trust.filter(pl.col("trust_index").is_not_null() & pl.col("period").is_in(list(timeline)))
            .group_by("period")
            .agg(pl.col("brand").n_unique().alias("brands"))
        )
        if scored.height:
            best = scored["brands"].max()
            label = scored.filter(pl.col("brands") == best)["period"].max()
        else:
            label = timeline[-1]
    elif wanted in timeline:
        label = wanted
    else:
        raise ValueError(f"period {wanted!r} has no data; use 'latest', 'all' or one of {list(timeline)}")
    index = timeline.index(label)
    return ReportPeriod(label, timeline[index - 1] if index > 0 else None, grain, timeline)
