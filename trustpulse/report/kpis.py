"""The first page's KPIs per brand: value in the report period, the value before, the 95% interval, and why a
value is missing ("not enough data ...").

mentions          audience mentions naming the brand
net sentiment     (positive - negative) / scored audience mentions, in points (-100..100), normal 95% interval
trust index       from `trust_index` (bootstrap 95% interval, `index_note` when null)
response rate     answered / needing an answer (from `needs_answer`), Wilson 95% interval
median response   median minutes to the first owner reply, over answered mentions
"""

import math
from dataclasses import dataclass

import polars as pl

from trustpulse.report.context import Report
from trustpulse.scoring.stats import Z95, wilson_interval

NOT_ENOUGH = "not enough data"
MIN_SENTIMENT_N = 5


@dataclass(frozen=True)
class Measure:
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str  # count | points | index | pct | minutes
    better: str  # up | down | none
    current: Measure
    previous: Measure | None  # None: no previous period to compare with

    @property
    def delta(self) -> float | None:
        if self.previous is None or self.current.value is None or self.previous.value is None:
            return None
        return self.current.value - self.previous.value


@dataclass(frozen=True)
class BrandKpis:
    brand: str
    kpis: tuple[Kpi, ...]

    def get(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def mentions_measure(audience: pl.DataFrame) -> Measure:
    return Measure(float(audience.height), n=audience.height)


def net_sentiment_measure(audience: pl.DataFrame) -> Measure:
    labels = audience["label"].drop_nulls()
    n = labels.len()
    if n < MIN_SENTIMENT_N:
        return Measure(None, n=n, note=f"{NOT_ENOUGH} ({n} scored mentions < {MIN_SENTIMENT_N})")
    pos = int((labels == "positive").sum()) / n
    neg = int((labels == "negative").sum()) / n
    net = pos - neg
    half = Z95 * math.sqrt(max(0.0, pos + neg - net * net) / n)
    return Measure(100 * net, 100 * max(-1.0, net - half), 100 * min(1.0, net + half), n)


def trust_measure(trust: pl.DataFrame, brand: str, period: str) -> Measure:
    row = trust.filter((pl.col("brand") == brand) & (pl.col("period") == period))
    if row.height == 0:
        return Measure(None, note=f"{NOT_ENOUGH} (no scored threads)")
    r = row.row(0, named=True)
    note = None
    if r["trust_index"] is None:
        note = r["index_note"] or NOT_ENOUGH
        if not note.startswith(NOT_ENOUGH):
            note = f"{NOT_ENOUGH}: {note}"
    return Measure(r["trust_index"], r["trust_index_low"], r["trust_index_high"], r["threads"], note)


def response_rate_measure(needs: pl.DataFrame) -> Measure:
    n = needs.height
    if n == 0:
        return Measure(None, n=0, note=f"{NOT_ENOUGH} (no mention needed an answer)")
    answered = int(needs["answered"].fill_null(False).sum())
    low, high = wilson_interval(answered, n)
    return Measure(100 * answered / n, 100 * low, 100 * high, n)  # type: ignore[operator]


def median_response_measure(needs: pl.DataFrame) -> Measure:
    minutes = needs.filter(pl.col("answered").fill_null(False))["first_response_minutes"].drop_nulls()
    if minutes.len() == 0:
        return Measure(None, n=0, note=f"{NOT_ENOUGH} (nothing answered)")
    return Measure(float(minutes.median()), n=minutes.len())  # type: ignore[arg-type]


def brand_kpis(report: Report, brand: str) -> BrandKpis:
    audience = report.audience.filter(pl.col("brand") == brand)
    needs = report.needs.filter(pl.col("brand") == brand)
    current, previous = report.period.label, report.period.previous

    def pair(measure, frame: pl.DataFrame) -> tuple[Measure, Measure | None]:
        now = measure(report.in_period(frame, current))
        before = measure(report.in_period(frame, previous)) if previous else None
        return now, before

    trust_now = trust_measure(report.trust, brand, current)
    trust_before = trust_measure(report.trust, brand, previous) if previous else None
    return BrandKpis(
        brand,
        (
            Kpi("mentions", "Audience mentions", "count", "none", *pair(mentions_measure, audience)),
            Kpi("net_sentiment", "Net sentiment", "points", "up", *pair(net_sentiment_measure, audience)),
            Kpi("trust_index", "Trust index", "index", "up", trust_now, trust_before),
            Kpi("response_rate", "Response rate", "pct", "up", *pair(response_rate_measure, needs)),
            Kpi("median_response", "Median first response", "minutes", "down", *pair(median_response_measure, needs)),
        ),
    )


def all_kpis(report: Report) -> list[BrandKpis]:
    return [brand_kpis(report, brand) for brand in report.brands]
