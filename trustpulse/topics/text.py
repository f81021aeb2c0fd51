"""What the topic encoder reads of a mention.

A topic is about what people talk about, not which account, link or order number they cite: mentions
become ``@user`` and links ``http`` (the same normalisation the sentiment model reads,
`trustpulse.sentiment.windows.model_input_text`), and every run of digits becomes ``0``. The keyword side
already ignores all three (c-TF-IDF drops digits, ``user`` and ``http`` are stop words); on the encoder side
this also means "flight 790" and "flight 232" are one text to encode, which in support dumps, full of
order, ticket and flight numbers, removes about half of the distinct texts.
"""

import re

from trustpulse.sentiment.windows import model_input_text

_DIGITS = re.compile(r"\d+")


def topic_input(text: str) -> str:
    """The text the topic encoder embeds for `text`."""
    return _DIGITS.sub("0", model_input_text(text))
