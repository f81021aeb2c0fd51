"""Who owes an answer: the owners found in the data, and the owner each audience mention talks to.

One rule, used by cleaning (a mention belongs to the brand of the owner it talks to) and by scoring (that
owner owes it an answer), so every count on a brand's card comes from the same set of mentions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from trustpulse.cleaning.authors import salutation_name

HANDLE = re.compile(r"@([\w.\-']+)")
LEADING_HANDLE = re.compile(r"^\s*@([\w.\-']+)")  # group 1: the handle a text opens by addressing
# An account found answering, without configuration: it replied to this many different people who had
# addressed it (an @-mention, or a reply to its post), in at least this many threads. One person who
# answers the replies to their own post is a participant, not an account that serves an audience.
MIN_PEOPLE_ANSWERED = 3
MIN_THREADS_ANSWERED = 2


def answering_accounts(rows: Iterable[Mapping]) -> set[str]:
    """Handles that answer people who address them, across threads (`rows`: native_id, parent_native_id,
    author_handle, text, thread key `_thread`). An X or Reddit brand account behaves this way; the
    casefolded handle is returned."""
    rows = list(rows)
    author_of = {r["native_id"]: (r["author_handle"] or "").casefold() for r in rows if r["native_id"]}
    addressed_by: dict[str, dict[str, str]] = defaultdict(dict)  # handle -> native id -> addressing author
    for r in rows:
        author = (r["author_handle"] or "").casefold()
        if not author or not r["native_id"]:
            continue
        targets = {h.casefold() for h in HANDLE.findall(r["text"] or "")}
        parent_author = author_of.get(r["parent_native_id"] or "")
        if parent_author:
            targets.add(parent_author)
        for target in targets - {author}:
            addressed_by[target][r["native_id"]] = author
    found = set()
    for handle, addressing in addressed_by.items():
        people, threads = set(), set()
        for r in rows:
            if (r["author_handle"] or "").casefold() == handle and r["parent_native_id"] in addressing:
                people.add(addressing[r["parent_native_id"]])
                threads.add(r["_thread"])
        if len(people) >= MIN_PEOPLE_ANSWERED and len(threads) >= MIN_THREADS_ANSWERED:
            found.add(handle)
    return found


def owners_talked_to(thread: list[Mapping], owner_by_handle: Mapping[str, str]) -> dict[str, str | None]:
    """For each audience mention of one thread (rows sorted by position, with mention_id, parent_id,
    position, is_owner, author, author_id, text), the owner it talks to, first rule that applies:

    1. the owner it replies to;
    2. an owner it @-addresses (`owner_by_handle`: casefolded handle -> owner);
    3. a reply to another audience member's mention: that mention's owner when it is the same person
       continuing, or when it joins the thread's opening mention without addressing anyone ("same here,
       app is broken" under a complaint to the brand); else nobody: an exchange among the audience
       ("Taxi Design, that seems like a repost") is owed by no owner;
    4. the owner who opened the thread (a blog post's author);
    5. in a conversation this person opened (no parent, or continuing their own opening mention), the
       first owner who took part (a support thread). A reply to a post that is not in the dump is owed
       by nobody: who it talks to is unknown.
    """
    by_id = {r["mention_id"]: r for r in thread}
    root = thread[0] if thread and thread[0]["position"] == 0 else None
    first_owner = next((r["author"] for r in thread if r["is_owner"]), None)
    out: dict[str, str | None] = {}
    for r in thread:
        if r["is_owner"]:
            continue
        parent = by_id.get(r["parent_id"]) if r["parent_id"] else None
        owner = parent["author"] if parent is not None and parent["is_owner"] else None
        if owner is None:
            owner = next(
                (
                    owner_by_handle[h.casefold()]
                    for h in HANDLE.findall(r["text"] or "")
                    if h.casefold() in owner_by_handle
                ),
                None,
            )
        if owner is None and parent is not None and not parent["is_owner"] and parent is not thread[0]:
            owner = out.get(parent["mention_id"]) if _same_person(r, parent) else None
        elif owner is None and parent is not None and parent is root and not parent["is_owner"]:
            joins = _same_person(r, parent) or not _addresses_a_person(r["text"] or "")
            owner = out.get(parent["mention_id"]) if joins else None
        elif owner is None and root is not None and root["is_owner"] and r["parent_id"] is None:
            owner = root["author"]
        elif owner is None and (r["parent_id"] is None or (parent is root and _same_person(r, root))):
            owner = first_owner
        out[r["mention_id"]] = owner
    return out


def _same_person(a: Mapping, b: Mapping) -> bool:
    return a["author_id"] is not None and a["author_id"] == b["author_id"]


def _addresses_a_person(text: str) -> bool:
    """Opens by addressing someone: '@name ...', 'Liz, ...', 'Taxi Design, ...'."""
    return bool(LEADING_HANDLE.match(text)) or salutation_name(text) is not None
