"""Timestamps in the formats dumps use, to UTC.

Numeric dates like `05-02-2015` or `03.02.2024` are ambiguous one by one. A file is written by one tool
in one locale, so the order is decided per file (`DateOrder.of`) from the values that are not ambiguous
(a first field over 12 means day-first), and applied to all of the file's dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil import parser as dateparser

# day or month, day or month, year; separators . / -
NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})\b")
# epoch numbers by magnitude: seconds up to 1e11 (year 5138), then milliseconds, microseconds, nanoseconds
EPOCH_DIVISORS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6), (1e20, 1e9))
NO_NUMERIC_DATES = "no numeric dates"
_SPACED_MERIDIEM = re.compile(r"\b([ap])\.\s?m\.", re.IGNORECASE)  # Spanish "2:07 a. m."
# the word between a date and its time in blog themes: "29.07.2006 um 16:43", "May 3, 2019 at 5:03 pm"
_DATE_TIME_WORD = re.compile(r"(?<=\d)\s+(?:um|at|à|a las|alle|om|kl\.?)\s+(?=\d)", re.IGNORECASE)
EARLIEST_YEAR = 1900
# Zone abbreviations exports print ("Mon Apr 06 22:19:45 PDT 2009"), as UTC offsets in seconds. Ambiguous
# ones (IST, CST in China) are read as most exports of English-language tools mean them.
ZONE_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "BST": 3600,
    "WEST": 3600,
    "CET": 3600,
    "CEST": 7200,
    "EET": 7200,
    "EEST": 10800,
    "MSK": 10800,
    "IST": 19800,
    "JST": 32400,
    "AEST": 36000,
    "AEDT": 39600,
    "EST": -18000,
    "EDT": -14400,
    "CST": -21600,
    "CDT": -18000,
    "MST": -25200,
    "MDT": -21600,
    "PST": -28800,
    "PDT": -25200,
    "AKST": -32400,
    "AKDT": -28800,
    "HST": -36000,
}  # earlier is no timestamp of an online mention: a misread value


@dataclass(frozen=True)
class DateOrder:
    """Whether a file's numeric dates put the day first."""

    day_first: bool
    evidence: str  # why: the value that decided, or the separator convention used

    @classmethod
    def of(cls, values: Iterable[str | None]) -> DateOrder:
        """Decide from the file's own values: a first field > 12 is a day, a second field > 12 is a day.
        With no such value: dots are day-first (European), slashes month-first (US), dashes day-first
        (year-first dashes are ISO and never reach this rule)."""
        separators: list[str] = []
        for value in values:
            match = NUMERIC_DATE.match(value) if value else None
            if not match:
                continue
            first, sep, second = int(match.group(1)), match.group(2), int(match.group(3))
            separators.append(sep)
            if first > 12 >= second:
                return cls(True, f"{value!r} has a day first")
            if second > 12 >= first:
                return cls(False, f"{value!r} has a month first")
        if not separators:
            return cls(False, NO_NUMERIC_DATES)
        sep = max(set(separators), key=separators.count)
        return cls(sep != "/", f"no unambiguous value, so by the {sep!r} separator's convention")

    @property
    def numeric_dates_seen(self) -> bool:
        return self.evidence != NO_NUMERIC_DATES


def _from_epoch(number: float) -> datetime:
    for limit, divisor in EPOCH_DIVISORS:
        if abs(number) < limit:
            return datetime.fromtimestamp(number / divisor, tz=UTC)
    raise ValueError(f"epoch number {number:g} is out of range")


def parse_timestamp(value: str | None, day_first: bool = False) -> datetime | None:
    """ISO 8601, RFC 2822, Twitter's "Tue Oct 31 22:10:47 +0000 2017", numeric dates in the file's order,
    epoch seconds / ms / µs / ns -> aware UTC. A timestamp without a zone is taken as UTC.

    None for an absent value; `ValueError` (with the reason) for a value that is not a date."""
    if value is None or not str(value).strip():
        return None
    text = _DATE_TIME_WORD.sub(" ", _SPACED_MERIDIEM.sub(r"\1m", str(value).strip()))
    try:
        if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
            parsed = _from_epoch(float(text))
        else:
            parsed = dateparser.parse(
                text, parserinfo=MultilingualDates(dayfirst=day_first), tzinfos=ZONE_ABBREVIATIONS
            )
    except (ValueError, OverflowError, TypeError, dateparser.ParserError) as exc:
        raise ValueError(f"{text[:60]!r} is not a date ({exc})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed.year < EARLIEST_YEAR:
        raise ValueError(f"{text[:60]!r} is not a date (year {parsed.year})")
    return parsed


# a value mostly of digits is a machine's timestamp: when it does not parse it is malformed
# ("2011-x09-30T22:48:43Z", "99999999999"); worded dates ("3. März 2015 um 10:15") are mostly letters
NUMERIC_SHARE = 0.5


_WORD = re.compile(r"[^\W\d_]{3,}")


def _looks_numeric(value: str) -> bool:
    """Mostly digits and no word (a month or day name) in it."""
    compact = value.replace(" ", "")
    digits = sum(c.isdigit() for c in compact)
    return bool(compact) and digits / len(compact) >= NUMERIC_SHARE and not _WORD.search(value)


class MultilingualDates(dateparser.parserinfo):
    """Month and weekday names in the languages of the comment threads we read (en, de, fr, es, it, nl, pt), so
    "3. März 2015 um 10:15" or "12 février 2015" get a date instead of none."""

    JUMP = [*dateparser.parserinfo.JUMP, "de", "del"]  # noqa: RUF012 - "2 de agosto de 2019"
    # full names only: short forms collide with words ("ago" is Portuguese August, "set", "out", "gen")
    MONTHS = [  # noqa: RUF012 - dateutil reads these class attributes
        ("Jan", "January", "Januar", "Jänner", "janvier", "enero", "gennaio", "januari", "janeiro"),
        ("Feb", "February", "Februar", "février", "febrero", "febbraio", "februari", "fevereiro"),
        ("Mar", "March", "März", "Maerz", "mars", "marzo", "maart", "março"),
        ("Apr", "April", "avril", "abril", "aprile"),
        ("May", "Mai", "mayo", "maggio", "mei", "maio"),
        ("Jun", "June", "Juni", "juin", "junio", "giugno", "junho"),
        ("Jul", "July", "Juli", "juillet", "julio", "luglio", "julho"),
        ("Aug", "August", "août", "agosto", "augustus"),
        ("Sep", "Sept", "September", "septembre", "septiembre", "settembre", "setembro"),
        ("Oct", "October", "Oktober", "octobre", "octubre", "ottobre", "outubro"),
        ("Nov", "November", "novembre", "noviembre", "novembro"),
        ("Dec", "December", "Dezember", "décembre", "diciembre", "dicembre", "dezembro"),
    ]


@dataclass(frozen=True)
class FileTimestamps:
    """A file's timestamps, numeric dates read in the order the file itself shows.

    `bad[i]` says why value i is malformed (an out-of-range epoch, `31/31/2020`): its record is
    quarantined. A worded date the parser does not know (`3. März 2015`, `2 hours ago`) is not malformed,
    only not understood: the mention is kept undated and counted in `not_understood`."""

    times: list[datetime | None]
    bad: list[str | None]
    not_understood: list[str]
    order: DateOrder


def parse_timestamps(values: list[str | None]) -> FileTimestamps:
    order = DateOrder.of(values)
    times: list[datetime | None] = []
    bad: list[str | None] = []
    not_understood: list[str] = []
    for value in values:
        try:
            times.append(parse_timestamp(value, order.day_first))
            bad.append(None)
        except ValueError as exc:
            times.append(None)
            if _looks_numeric(str(value)):
                bad.append(str(exc))
            else:
                bad.append(None)
                not_understood.append(str(value))
    return FileTimestamps(times, bad, not_understood, order)
