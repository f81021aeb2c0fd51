"""Text normalisation and PII masking for mention texts."""

from __future__ import annotations

import html
import re
import unicodedata

import phonenumbers

from trustpulse.cleaning.boilerplate import strip_boilerplate_lines
from trustpulse.cleaning.html import html_to_text

# local part: RFC 5322 "atext" and dots; domain: labels and a letter TLD
_LOCAL = r"[\w!#$%&'*+/=?^`{|}~.-]"
EMAIL = re.compile(rf"(?<!{_LOCAL}){_LOCAL}+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}(?!\w)")
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
_HTML_MARKUP = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*\b[^>]*|/[a-zA-Z][a-zA-Z0-9]*\s*)>")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028\u2029\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Candidate phone numbers: 7+ digits with the usual separators; phonenumbers decides.
_PHONE_CANDIDATE = re.compile(r"\+?\d[\d\s().\-/]{6,}\d")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_MARKUP.search(text))


def normalise_text(text: str | None, markup: bool = True) -> str:
    """Visible, NFKC-normalised text: boilerplate lines out, whitespace tidied.

    `markup`: the source may hold HTML (blogs, forums, exports), which is turned into its visible text.
    Plain-text sources (tweets, Reddit, support chats) only get entities unescaped: there a `<script>`
    is something a person typed, kept as text (and escaped wherever it is shown).
    """
    if not text:
        return ""
    text = html_to_text(text) if markup and looks_like_html(text) else html.unescape(text)
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text)
    text = strip_boilerplate_lines(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _phone_spans(text: str, region: str) -> list[tuple[int, int]]:
    if not _PHONE_CANDIDATE.search(text):
        return []
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    return [(m.start, m.end) for m in matcher]


def mask_pii(text: str, region: str = "US") -> str:
    """Replace e-mail addresses and phone numbers with placeholders."""
    if not text:
        return text
    text = EMAIL.sub(EMAIL_MASK, text)
    for start, end in reversed(_phone_spans(text, region)):
        text = text[:start] + PHONE_MASK + text[end:]
    return text


def mask_pii_in_raw(raw: str | None, text: str | None, region: str = "US") -> str | None:
    """Mask, in a raw record, the e-mail addresses and phone numbers that its text holds.

    Raw records are JSON or CSV lines full of numeric ids that a phone matcher would take for numbers, so
    the PII is found in the record's text and replaced wherever that exact string occurs in the raw
    record; a record without a parsed text (unparseable) is masked as a whole.
    """
    if not raw:
        return raw
    if text is None:
        return mask_pii(raw, region)
    without_emails = EMAIL.sub(EMAIL_MASK, text)
    found = EMAIL.findall(text) + [without_emails[s:e] for s, e in _phone_spans(without_emails, region)]
    for value in sorted(set(found), key=len, reverse=True):
        raw = raw.replace(value, EMAIL_MASK if "@" in value else PHONE_MASK)
    return EMAIL.sub(EMAIL_MASK, raw)
