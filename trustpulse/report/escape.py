"""Escaping for every text that comes from a dump (mention text, authors, owners, file names, topics).

Nothing read from the warehouse goes into HTML unescaped: the report builds its HTML from these helpers
only, so a mention holding `<script>` or `<img onerror=...>` is shown as text and never runs.
"""

import html
import re
from urllib.parse import urlsplit

_WHITESPACE = re.compile(r"\s+")


def h(value: object) -> str:
    """HTML-escape any value (None -> empty string), quotes included: safe in text and attributes."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def clip(text: object, limit: int) -> str:
    """Whitespace collapsed and cut to `limit` characters with an ellipsis. Not escaped: pass to `h`."""
    flat = _WHITESPACE.sub(" ", "" if text is None else str(text)).strip()
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


def quote(text: object, limit: int = 280) -> str:
    """A mention's text ready for HTML: collapsed, clipped, escaped."""
    return h(clip(text, limit))


def safe_link(url: object, label: object) -> str:
    """An escaped link for http(s) URLs (opened in a new tab, no referrer); any other URL is shown as text."""
    raw = "" if url is None else str(url).strip()
    try:
        scheme = urlsplit(raw).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        return h(label)
    return f'<a href="{h(raw)}" target="_blank" rel="noopener noreferrer nofollow">{h(label)}</a>'
