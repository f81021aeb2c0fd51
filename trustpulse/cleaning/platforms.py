"""The platform a mention was posted on, in one vocabulary, from what the export says or its link.

Exports name platforms their own way ("Twitter", "X", "twitter.com", "Page Type: twitter") or not at all,
while a link says it plainly; one account on one platform must get one pseudonym whatever the export.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# what exports write (lowercased) or a link's host ends with -> the platform
PLATFORM_NAMES: dict[str, str] = {
    "twitter": "twitter",
    "x": "twitter",
    "twitter.com": "twitter",
    "x.com": "twitter",
    "t.co": "twitter",
    "reddit": "reddit",
    "reddit.com": "reddit",
    "facebook": "facebook",
    "facebook.com": "facebook",
    "instagram": "instagram",
    "instagram.com": "instagram",
    "youtube": "youtube",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "tiktok": "tiktok",
    "tiktok.com": "tiktok",
    "linkedin": "linkedin",
    "linkedin.com": "linkedin",
    "threads.net": "threads",
    "bsky.app": "bluesky",
    "bluesky": "bluesky",
    "mastodon": "mastodon",
}


def _from_host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").removeprefix("www.").removeprefix("mobile.")
    except ValueError:
        return None
    parts = host.split(".")
    for i in range(len(parts) - 1):
        if (name := PLATFORM_NAMES.get(".".join(parts[i:]))) is not None:
            return name
    return None


def platform_of(stated: str | None, url: str | None) -> str | None:
    """The platform in our vocabulary: what the export states when we know the name, else what the link's host
    says, else the stated value as written (lowercased), else None."""
    cleaned = (stated or "").strip().lower()
    return (
        PLATFORM_NAMES.get(cleaned)
        or _from_host(url)
        or (_from_host(cleaned) if "." in cleaned else None)
        or (cleaned or None)
    )
