"""Comment-form and page-furniture boilerplate: lines that are never what someone said.

Patterns match a whole line (case-insensitive, surrounding whitespace ignored). They come from the
TypePad, Blogger and WordPress comment forms seen in real dumps; add to `BOILERPLATE_LINE_PATTERNS`
rather than special-casing a reader.
"""

from __future__ import annotations

import re

BOILERPLATE_LINE_PATTERNS: tuple[str, ...] = (
    r"post a comment",
    r"post another comment",
    r"verify your comment",
    r"previewing your comment",
    r"this is only a preview\.? your comment has not yet been posted\.?",
    r"your comment could not be posted\..*",
    r"your comment has been (saved|posted|submitted)\..*",
    r"comments are moderated.*",
    r"comments are closed\.?",
    r"the letters and numbers you entered did not match the image\..*",
    r"as a final step before posting your comment.*",
    r"having trouble reading this image\?.*",
    r"your information",
    r"\(name is required\. email address will not be displayed with the comment\.\)",
    r"(feed )?you can follow this conversation by subscribing to the comment feed.*",
    r"subscribe to:? post comments.*",
    r"(reply|delete|replydelete|replies|reply delete|report abuse)",
    r"(name|e-?mail|url|website)( ?\((required|optional)\))?:?",
    r"leave a (comment|reply)",
    r"add a comment",
    r"cancel reply",
    r"(load|show|view) (more|all|older|newer) comments",
    r"notify me of (follow-up|new) (comments|posts).*",
    r"save my name, email, and website in this browser.*",
    r"you must be (logged|signed) in to post a comment.*",
    r"(newer|older) posts?|home",
    r"(\d+ )?comments?:?",
    r"sign in with (google|facebook|twitter|typepad).*",
)

_BOILERPLATE = re.compile(
    r"^\s*(?:" + "|".join(f"(?:{p})" for p in BOILERPLATE_LINE_PATTERNS) + r")\s*$", re.IGNORECASE
)
# Blogger glues its "ReplyDelete" button text to the start of the next comment.
COMMENT_SEPARATOR_TOKEN = re.compile(r"ReplyDelete|Reply\s*Delete(?=[A-Z@]|\s*$)")


def is_boilerplate_line(line: str) -> bool:
    return bool(_BOILERPLATE.match(line))


def strip_boilerplate_lines(text: str) -> str:
    """Drop boilerplate lines and Blogger's glued "ReplyDelete" tokens from a text."""
    text = COMMENT_SEPARATOR_TOKEN.sub("\n", text)
    return "\n".join(line for line in text.split("\n") if not is_boilerplate_line(line))
