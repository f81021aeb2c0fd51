"""Threads and reply links: from native ids where the source has them, inferred on blogs."""

from __future__ import annotations

import hashlib

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


def blog_reply_parent(
    text: str, earlier_authors: list[tuple[int, str | None]], post_row: int | None, post_author: str | None
) -> int | None:
    """Row a blog comment answers: the latest earlier audience comment by the person it addresses
    ('@Liz –', 'Liz,'), else the post. `earlier_authors`: (row, author) of earlier audience comments."""
    at_name = addressee(text)
    name = at_name or salutation_name(text)
    if name:
        wanted = name.casefold()
        if post_author and post_author.casefold() == wanted:
            return post_row
        for row, author in reversed(earlier_authors):
            if author and (author.casefold() == wanted or author.casefold().split()[0] == wanted):
                return row
        if at_name and earlier_authors:
            # "@Sam – ..." right after a comment whose signature was lost: it answers that comment
            return earlier_authors[-1][0]
    return post_row
