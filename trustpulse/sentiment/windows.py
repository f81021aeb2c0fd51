"""Text normalisation, sentence-window splitting and probability pooling.

Long texts are never truncated silently: they are split on sentence boundaries, sentences are
packed greedily into windows of at most ``max_tokens`` tokens (special tokens included), a single
sentence longer than that is cut by tokens, every window is scored and the window probabilities are
averaged with weights equal to each window's length in (content) tokens.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import numpy as np

# Literal "\u002c"-style escapes appear in the SemEval dumps; decode them so train/inference match.
_UESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"https?://\S+|www\.\S+")
_WS = re.compile(r"[^\S\n]+")
# Sentence boundary: end punctuation (optionally followed by closing quotes/brackets) then
# whitespace, or a newline.
_SENT_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n+")


def _decode_escape(m: re.Match[str]) -> str:
    ch = chr(int(m.group(1), 16))
    # A lone surrogate would make the text un-encodable; use the replacement character instead.
    return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch


def clean_unicode(text: str) -> str:
    """Replace lone surrogates (e.g. from ``surrogateescape`` decoding) with U+FFFD."""
    return text.encode("utf-8", errors="replace").decode("utf-8", errors="replace")


def model_input_text(text: str) -> str:
    """The text the sentiment model reads for `text`, the same at training and at inference: the tweet form
    the model was trained on. (Not `trustpulse.cleaning.text.normalise_text`, which makes a raw mention's
    visible text.)

    Mentions become ``@user`` and URLs ``http`` (the TweetEval convention), literal ``\\uXXXX``
    escapes are decoded, lone surrogates are replaced. Newlines are kept (they mark sentence
    boundaries for windowing); other whitespace runs are collapsed to one space.
    """
    text = clean_unicode(_UESCAPE.sub(_decode_escape, text))
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    lines = (_WS.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences start (always begins with 0)."""
    starts = [0]
    for m in _SENT_END.finditer(text):
        if m.end() < len(text):
            starts.append(m.end())
    return starts


def make_windows(
    token_ids: Sequence[int],
    token_char_starts: Sequence[int],
    sent_starts: Sequence[int],
    max_content: int,
) -> list[list[int]]:
    """Pack a text's tokens into windows of at most ``max_content`` tokens along sentence boundaries.

    ``token_char_starts[i]`` is the character offset of token ``i`` in the text; each token belongs to
    the last sentence starting at or before it. Whole sentences are packed greedily; a sentence longer
    than ``max_content`` is split into consecutive token chunks. Every token lands in exactly one window.
    """
    if max_content < 1:
        raise ValueError("max_content must be >= 1")
    n = len(token_ids)
    if n <= max_content:
        return [list(token_ids)] if n else []
    # Group tokens by sentence.
    sentences: list[list[int]] = []
    current = -1
    for tid, start in zip(token_ids, token_char_starts, strict=True):
        s = bisect.bisect_right(sent_starts, start) - 1
        if s != current or not sentences:
            sentences.append([])
            current = s
        sentences[-1].append(tid)
    windows: list[list[int]] = []
    buf: list[int] = []
    for sent in sentences:
        if len(sent) > max_content:
            if buf:
                windows.append(buf)
                buf = []
            for j in range(0, len(sent), max_content):
                windows.append(sent[j : j + max_content])
            continue
        if len(buf) + len(sent) > max_content:
            windows.append(buf)
            buf = []
        buf = buf + sent
    if buf:
        windows.append(buf)
    return windows


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax (max-subtracted, in the input's float precision)."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def pool_windows(probs: np.ndarray, owner: Sequence[int], weights: Sequence[float], n_texts: int) -> np.ndarray:
    """Average window probabilities per text, weighted by window length in tokens.

    ``owner[k]`` is the text index of window ``k``. Texts without windows get NaN rows (the caller
    decides what an empty text means).
    """
    out = np.zeros((n_texts, probs.shape[1]), dtype=np.float64)
    total = np.zeros(n_texts, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    own = np.asarray(owner, dtype=np.int64)
    if len(own):
        np.add.at(out, own, probs.astype(np.float64) * w[:, None])
        np.add.at(total, own, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / total[:, None]
