"""Timestamps in the formats dumps use, to UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from dateutil import parser as dateparser


def parse_timestamp(value: str | None) -> datetime | None:
    """ISO 8601, RFC 2822, Twitter's "Tue Oct 31 22:10:47 +0000 2017", epoch seconds -> aware UTC.

    A timestamp without a zone is taken as UTC. Unparseable values give None (the mention is kept).
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        if text.replace(".", "", 1).isdigit():
            number = float(text)
            if number > 1e11:  # milliseconds
                number /= 1000
            return datetime.fromtimestamp(number, tz=UTC)
        parsed = dateparser.parse(text)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
