"""Which column of a social-listening export holds which contract field.

One table, `EXPORT_COLUMNS`: contract field -> the header names the common tools write, in order of
preference (when an export has both "Full Text" and "Snippet", the full text wins). Headers are compared
case-, space- and underscore-insensitively ("Created_At" == "created at"). Sources of the names (the
exports' own headers): Brandwatch Consumer Research mention downloads (Query Id, Date, Title, Url, Domain,
Page Type, Author, Full Name, Full Text, Snippet, Thread Id, Thread Entry Type, Resource Id...), Meltwater
(Date, Time, Document ID, URL, Source Type, Author Name, Author Handle, Opening Text, Hit Sentence, and
the older Headline, Source, Influencer, Tweet Id, Twitter Screen Name), TAGS / Twitter archive sheets
(id_str, from_user, text, created_at, in_reply_to_status_id_str, status_url), and the generic names of
Talkwalker / Sprout / Hootsuite / Sprinklr / NodeXL / Netlytic exports (content, message, post, link,
permalink, published, author, username...). See tests/fixtures/exports/SOURCES.md.

A user's `column_map` (contract field -> header name, the `csv_columns` setting) wins over the table.
"""

from __future__ import annotations

import re

# contract field -> accepted header names, most preferred first
EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "full text",
        "hit sentence",
        "tweet text",
        "tweet",
        "message",
        "content",
        "body",
        "comment",
        "mention",
        "post",
        "opening text",
        "snippet",
        "description",
    ),
    # never "source": Meltwater's is the outlet, twarc-csv's the client app ("Twitter for iPhone")
    "author": (
        "author handle",
        "author username",
        "author screen name",
        "user screen name",
        "author",
        "screen name",
        "twitter screen name",
        "username",
        "handle",
        "user",
        "from user",
        "influencer",
        "from",
    ),
    "author_name": ("author name", "full name", "display name", "user name"),
    "id": (
        "id",
        "tweet id",
        "id str",
        "post id",
        "mention id",
        "resource id",
        "guid",
        "document id",
    ),
    "created_at": (
        "created at",
        "date",
        "published",
        "published date",
        "date published",
        "post date",
        "timestamp",
        "posted",
        "posted at",
        "datetime",
        "time",
    ),
    "url": ("url", "link", "permalink", "status url"),
    "thread_id": ("thread id", "conversation id", "thread entry id"),
    "in_reply_to": (
        "parent id",
        "in reply to",
        "in reply to tweet id",
        "in reply to status id str",
        "in reply to status id",
        "referenced tweets replied to id",
        "reply to",
    ),
    "platform": ("platform", "page type", "source type", "network", "site type", "domain"),
}

# A separate time-of-day column that belongs to a date-only column (Meltwater writes Date and Time apart).
DATE_ONLY_HEADER = "date"
TIME_OF_DAY_HEADER = "time"

_SEPARATORS = re.compile(r"[\s_\-.]+")  # "author.username" (twarc-csv) == "author username"


def normalise_header(name: str) -> str:
    """'  Created_At ' -> 'created at'; a byte-order mark and surrounding quotes are dropped."""
    return _SEPARATORS.sub(" ", name.replace("\ufeff", "").strip().strip('"').lower()).strip()


def text_column_names(column_map: dict[str, str] | None) -> set[str]:
    """Every normalised header name that counts as a text column (the user's own first)."""
    names = set(EXPORT_COLUMNS["text"])
    if column_map and column_map.get("text"):
        names.add(normalise_header(column_map["text"]))
    return names


def map_columns(header: list[str], column_map: dict[str, str] | None) -> dict[str, int]:
    """Contract field -> column index. User overrides first, then the table in order of preference;
    a column serves one field only."""
    normalised = [normalise_header(h) for h in header]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for field, name in (column_map or {}).items():
        wanted = normalise_header(name)
        if wanted in normalised:
            index = normalised.index(wanted)
            mapping[field] = index
            taken.add(index)
    for field, names in EXPORT_COLUMNS.items():
        if field in mapping or (column_map and field in column_map):
            continue  # the user named a column for it: their choice, even when absent, is not guessed over
        for name in names:
            free = [i for i, h in enumerate(normalised) if h == name and i not in taken]
            if free:
                mapping[field] = free[0]
                taken.add(free[0])
                break
    if "created_at" in mapping and normalised[mapping["created_at"]] == DATE_ONLY_HEADER:
        time_columns = [i for i, h in enumerate(normalised) if h == TIME_OF_DAY_HEADER and i not in taken]
        if time_columns:
            mapping["time_of_day"] = time_columns[0]
    return mapping
