"""Who wrote a mention: pseudonymised ids, and the blog post's author (the thread's owner)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter

# "Amber," / "Amber -" / "Hi Amber," / "Great post Amber." / "Taxi Design, ..." at the start of a comment:
# one to three capitalised words, then punctuation (a name of two or three words needs a comma or dash,
# so that "Social Media." is no name)
_SALUTATION = re.compile(
    r"^(?:(?i:hi|hey|hello|dear|thanks|thank you|great (?:post|insight|points?)|nice post|well said)"
    r"[,!]?\s+)?"
    r"(?:(?P<name>[A-Z][a-z]+)\s*(?:[,:!.\-–—…]|$)|(?P<full>[A-Z][a-z]+(?:\s[A-Z][a-z]+){1,2})\s*[,:\-–—])"
)
# first words that are no names although they open a sentence with a comma ("However, ...")
_NOT_NAMES = frozenset({"however", "yes", "no", "well", "ok", "okay", "so", "also", "and", "but", "agreed", "exactly"})
_THANKS_FOR_COMMENT = re.compile(
    r"^(?:thanks|thank you|many thanks)\b[^.!?\n]{0,40}\b(?:comment|feedback|thoughts|input|kind words)",
    re.IGNORECASE,
)
_ADDRESSEE = re.compile(r"^@\s?(?P<name>[\w.\-']+(?:\s[A-Z][\w.\-']+)?)")


def pseudonymise(key: bytes, platform: str, handle: str | None) -> str | None:
    """A stable keyed hash of an author: same person, same id; no way back without the key."""
    if not handle:
        return None
    message = f"{platform}:{handle.strip().lstrip('@').casefold()}".encode()
    return "a_" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def salutation_name(text: str) -> str | None:
    match = _SALUTATION.match(text.strip())
    if not match:
        return None
    name = match.group("name") or match.group("full")
    return None if name.split()[0].casefold() in _NOT_NAMES else name


def infer_post_author(comment_texts: list[str]) -> str | None:
    """The name commenters greet most ("Amber," "Hi Amber"), if at least two comments agree."""
    counts = Counter(name for t in comment_texts if (name := salutation_name(t)))
    if not counts:
        return None
    name, n = counts.most_common(1)[0]
    return name if n >= 2 else None


def addressee(text: str) -> str | None:
    """The name a comment opens by addressing with '@': '@Liz – you're right' -> 'Liz'."""
    match = _ADDRESSEE.match(text.strip())
    return match.group("name").rstrip(".-–'") if match else None


def thanks_for_comment(text: str) -> bool:
    """Replies such as "Thanks for sharing your comments - ..." that only the post's author writes."""
    return bool(_THANKS_FOR_COMMENT.match(text.strip()))
