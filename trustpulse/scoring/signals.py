"""Text signals the scores need: questions, gratitude-only closings, advocacy and detraction.

Rules are explicit regular expressions so an analyst can read (and defend) them; see
docs/methodology.md for what each one means.
"""

from __future__ import annotations

import re

_INTERROGATIVE_START = re.compile(
    r"(?:^|[.!?]\s+|\n)(?:how|what|when|where|why|who|which|whose|can|could|would|will|do|does|did|is|are|"
    r"was|were|should|shall|may|might|have|has|any(?:one|body| update| news| idea)|is there|are there)\b[^.!?\n]{3,}$",
    re.IGNORECASE | re.MULTILINE,
)
_GRATITUDE_ONLY = re.compile(
    r"^\W*(?:@\S+\s+)*(?:ok(?:ay)?|great|perfect|cool|got it|thanks?|thank you|thx|ty|cheers|much appreciated|"
    r"that (?:sorted|fixed|solved) it|all good|dm sent|ok,? dm sent)(?:[\s,!.]+(?:so much|a lot|again|that "
    r"(?:sorted|fixed|solved) it|for (?:the|your) (?:help|reply|quick reply))?)*[\s!.:)]*$",
    re.IGNORECASE,
)
_ADVOCACY = re.compile(
    r"\b(?:recommend(?:ed|ing)?|highly recommend|go with|switch(?:ed)? to|worth (?:it|every)|best (?:\w+ )?ever|"
    r"love (?:it|them|this|their)|in (?:their|its) defen[cs]e|to be fair|give them a (?:try|chance)|"
    r"can't fault|never had a problem|always (?:helpful|reliable))\b",
    re.IGNORECASE,
)
_DETRACTION = re.compile(
    r"\b(?:avoid|stay away|never again|don't (?:buy|use|fly|bother)|do not (?:buy|use)|switching away|"
    r"cancel(?:l?ing|l?ed)? my|worst|scam|useless|awful)\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """A question mark, or a sentence opening with an interrogative form."""
    return "?" in text or bool(_INTERROGATIVE_START.search(text.strip()))


def is_gratitude_only(text: str) -> bool:
    """ "thanks, that sorted it!" / "ok, DM sent": closes a conversation, needs no answer."""
    return bool(_GRATITUDE_ONLY.match(text.strip()))


def is_advocacy(text: str, sentiment_score: float | None) -> bool:
    """Recommends or defends: an advocacy phrase in a mention that is not negative."""
    return bool(_ADVOCACY.search(text)) and (sentiment_score is None or sentiment_score > -0.2)


def is_detraction(text: str, sentiment_score: float | None) -> bool:
    """Warns others away: a detraction phrase in a mention that is not positive."""
    return bool(_DETRACTION.search(text)) and (sentiment_score is None or sentiment_score < 0.2)
