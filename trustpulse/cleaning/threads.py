"""Threads and reply links: from native ids where the source has them, inferred on blogs."""

from __future__ import annotations

import hashlib
import re

from trustpulse.cleaning.authors import addressee, salutation_name


def stable_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:16]


def thread_roots(
    native_ids: list[str | None], parents: list[str | None], threads: list[str | None]
) -> list[str | None]:
    """Native id of each row's thread: the given thread id, else the oldest ancestor reachable by
    parent links (the parent may lie outside the dump), else the row's own id."""
    parent_of = {n: p for n, p in zip(native_ids, parents, strict=True) if n is not None}
    thread_of = {n: t for n, t in zip(native_ids, threads, strict=True) if n is not None and t is not None}
    out: list[str | None] = []
    for native, parent, thread in zip(native_ids, parents, threads, strict=True):
        if thread is not None:
            out.append(thread)
            continue
        node, seen = parent if parent is not None else native, set()
        while node is not None and node not in seen:
            seen.add(node)
            if node in thread_of:
                node = thread_of[node]
                break
            nxt = parent_of.get(node)
            if nxt is None:
                break
            node = nxt
        out.append(node)
    return out


# A comment that shares this many consecutive words with an earlier one quotes it ("yes it is a whole new
# animal" answering "Social media is a whole new animal"); fewer is common phrasing.
QUOTE_MIN_WORDS = 4
_WORD = re.compile(r"[\w'’]+")


def _names_match(author: str, wanted: str) -> bool:
    """'Liz Strauss' is addressed as 'Liz Strauss', 'Liz' or '@LizStrauss'."""
    folded = author.casefold()
    return wanted in (folded, folded.split()[0], folded.replace(" ", ""))


def _longest_shared_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive words two texts share."""
    best, previous = 0, [0] * (len(b) + 1)
    for word in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def quoted_comment(text: str, earlier: list[tuple[int, str | None, str]]) -> int | None:
    """The latest earlier comment whose words this text repeats (a run of QUOTE_MIN_WORDS or more)."""
    words = [w.casefold() for w in _WORD.findall(text)]
    for row, _author, other in reversed(earlier):
        if _longest_shared_run(words, [w.casefold() for w in _WORD.findall(other)]) >= QUOTE_MIN_WORDS:
            return row
    return None


def blog_reply_parent(
    text: str,
    earlier: list[tuple[int, str | None, str]],
    post_row: int | None,
    post_author: str | None,
    by_post_author: bool = False,
) -> int | None:
    """Row a blog comment answers. `earlier`: (row, author or None, text) of the earlier audience comments.

    - It addresses someone ('@Liz –', 'Liz,', 'Taxi Design, ...'): the post if that is the post's author;
      else that person's latest comment; else (their signature was lost) the latest earlier comment with no
      known author, never a comment signed by someone else.
    - The post's author quotes an earlier comment (a run of QUOTE_MIN_WORDS words): that comment. Only
      for the post's author: commenters share phrases with each other all the time, answering the post.
    - Otherwise: the post.
    """
    name = addressee(text) or salutation_name(text)
    if name:
        wanted = name.casefold()
        if post_author and _names_match(post_author, wanted):
            return post_row
        for row, author, _ in reversed(earlier):
            if author and _names_match(author, wanted):
                return row
        unsigned = [row for row, author, _ in earlier if not author]
        return unsigned[-1] if unsigned else post_row
    quoted = quoted_comment(text, earlier) if by_post_author else None
    return quoted if quoted is not None else post_row
