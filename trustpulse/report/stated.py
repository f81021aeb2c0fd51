"""Every count the report states, collected while it renders, so it can be reconciled with the warehouse.

The blocks and figures call `StatedCounts.add` next to the sentence, card, table cell or hover text that shows a
count; the notebook writes the collection to `stated_counts.json` beside the staged report
(`trustpulse.report.reconcile` recounts each entry from the parquet tables). An entry names what was counted
(`metric`), for which brand or owner account, in which period, and where the report shows it.

Metrics and what each counts (period: the label of the report's periods; 'all': every row):
    audience_mentions       mentions not written by an owner, naming `brand`
    needs_answer            `needs_answer` rows of `brand` (owner: of `owner`)
    answered                of those, answered (a reply in the export, or one the export says exists)
    answered_not_in_dump    of those answered, the ones whose reply is not in the export
    unanswered              of those of the report's brands, not answered
    unanswered_negative     of those unanswered, the ones labelled negative (whatever made them need an answer)
    mentions_total          kept mentions in the warehouse (per `dump`, or all)
    undated                 of those, without a date
    raw_records / duplicates / quarantined      records read / dropped as duplicates / quarantined (per `dump`, or all)
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trustpulse.storage import write_bytes_atomic
from trustpulse.tables import ALL_PERIODS

STATED_FILE = "stated_counts.json"
FORMAT_VERSION = 1

AUDIENCE_MENTIONS = "audience_mentions"
NEEDS_ANSWER = "needs_answer"
ANSWERED = "answered"
ANSWERED_NOT_IN_DUMP = "answered_not_in_dump"
UNANSWERED = "unanswered"
UNANSWERED_NEGATIVE = "unanswered_negative"
MENTIONS_TOTAL = "mentions_total"
UNDATED = "undated"
RAW_RECORDS = "raw_records"
DUPLICATES = "duplicates"
QUARANTINED = "quarantined"
METRICS = (
    AUDIENCE_MENTIONS,
    NEEDS_ANSWER,
    ANSWERED,
    ANSWERED_NOT_IN_DUMP,
    UNANSWERED,
    UNANSWERED_NEGATIVE,
    MENTIONS_TOTAL,
    UNDATED,
    RAW_RECORDS,
    DUPLICATES,
    QUARANTINED,
)


@dataclass(frozen=True)
class StatedCount:
    metric: str
    value: int
    period: str = ALL_PERIODS
    brand: str | None = None  # None: every brand of the report (its scope)
    owner: str | None = None  # set for counts per owner account
    dump: str | None = None  # set for counts per dump file
    where: str = ""  # the section of the report that shows it
    grain: str | None = None  # the grain of `period` when it is not the report's (the scoring stage's weeks)

    @property
    def key(self) -> tuple:
        return (self.metric, self.period, self.brand, self.owner, self.dump)


@dataclass
class StatedCounts:
    """The counts one rendering stated, with the scope needed to recount them."""

    grain: str = "week"
    brands: list[str] = field(default_factory=list)  # the report's brands
    include_unbranded: bool = False  # rows with no brand count in brand-wide totals (every brand was asked for)
    run_date: str = ""
    items: list[StatedCount] = field(default_factory=list)

    def add(self, metric: str, value: int, **where: str | None) -> int:
        """Record one stated count (deduplicated by what it counts); returns `value` for use in f-strings."""
        if metric not in METRICS:
            raise ValueError(f"unknown stated metric {metric!r}")
        item = StatedCount(metric, int(value), **where)  # type: ignore[arg-type]
        if all(existing.key != item.key or existing.value != item.value for existing in self.items):
            self.items.append(item)
        return int(value)

    def to_json(self) -> str:
        payload = {
            "version": FORMAT_VERSION,
            "grain": self.grain,
            "brands": self.brands,
            "include_unbranded": self.include_unbranded,
            "run_date": self.run_date,
            "items": [asdict(i) for i in self.items],
        }
        return json.dumps(payload, indent=1, ensure_ascii=False)

    def write(self, path: str | Path) -> Path:
        return write_bytes_atomic(self.to_json().encode("utf-8"), Path(path))

    @classmethod
    def read(cls, path: str | Path) -> "StatedCounts":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            grain=data.get("grain", "week"),
            brands=list(data.get("brands", [])),
            include_unbranded=bool(data.get("include_unbranded", False)),
            run_date=data.get("run_date", ""),
            items=[StatedCount(**item) for item in data.get("items", [])],
        )
