"""Blog posts with their comment threads, as plain text scraped from the page.

The scraped shape (see the seeds): the post, then the comments, where
- every audience comment is printed twice in a row (the scraper saw it twice), over several lines,
- a CommentLuv signature "Beth Hartes last blog post..Is Social Media scalable?" ends a comment,
- the post's author answers once ("@Liz – you're right to do so!"),
- Blogger glues "ReplyDelete" between comments, and a comment form (boilerplate) may follow.

The reader only finds the structure: records for the post, each comment occurrence (a repeat points
back to its first occurrence in `duplicate_of_index`), and boilerplate runs. Deciding who the owner
is, and what each comment answers, is cleaning's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from trustpulse.cleaning.boilerplate import COMMENT_SEPARATOR_TOKEN, is_boilerplate_line

MAX_REPEAT_LINES = 80
SEPARATOR = "\x1e"
SIGNATURE = re.compile(r"^(?P<name>\S.{0,80}?)\s+last blog post\s*\.{2,}\s*(?P<title>.*)$", re.IGNORECASE)
_POSSESSIVE_S = re.compile(r"(?:['’]s|s)$")
_CONTINUATION_START = ("…", "...")
_SENTENCE_END = tuple('.!?"”’)…:;')


def signature_author(line: str) -> str | None:
    """'Beth Hartes last blog post..Is Social Media scalable?' -> 'Beth Harte'.

    CommentLuv writes "<name>'s last blog post..<title>"; scrapers drop the apostrophe, so the
    possessive is the final "s" ("Liz Strausss" -> "Liz Strauss").
    """
    match = SIGNATURE.match(line.strip())
    if not match:
        return None
    name = _POSSESSIVE_S.sub("", match.group("name").strip()).strip()
    return name or None


@dataclass
class _Line:
    number: int
    text: str  # stripped


@dataclass
class _Block:
    """A comment (or the post): its lines, and the lines of its repeat if it was printed twice."""

    lines: list[_Line]
    repeat: list[_Line] | None = None
    author: str | None = None
    signature_lines: list[_Line] = field(default_factory=list)
    repeat_signature_lines: list[_Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _split_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    for number, line in enumerate(text.split("\n"), start=1):
        parts = COMMENT_SEPARATOR_TOKEN.split(line.rstrip("\r"))
        for i, part in enumerate(parts):
            if i > 0:
                out.append(_Line(number, SEPARATOR))
            out.append(_Line(number, part.strip()))
    return out


def _tandem_length(content: list[_Line], i: int) -> int:
    """Smallest k such that content[i:i+k] == content[i+k:i+2k] (no separator inside), else 0."""
    n = len(content)
    for k in range(1, min(MAX_REPEAT_LINES, (n - i) // 2) + 1):
        if content[i + k].text != content[i].text:
            continue
        block = content[i : i + k]
        if any(line.text == SEPARATOR for line in block):
            return 0
        if all(a.text == b.text for a, b in zip(block, content[i + k : i + 2 * k], strict=True)):
            return k
    return 0


def _split_at_signatures(lines: list[_Line]) -> list[list[_Line]]:
    groups: list[list[_Line]] = [[]]
    for line in lines:
        groups[-1].append(line)
        if signature_author(line.text):
            groups.append([])
    return [g for g in groups if g]


def _finish(lines: list[_Line], repeat: list[_Line] | None) -> _Block:
    block = _Block(lines=[], repeat=[] if repeat is not None else None)
    for idx, line in enumerate(lines):
        author = signature_author(line.text)
        if author:
            block.author = author
            block.signature_lines.append(line)
            if repeat is not None:
                block.repeat_signature_lines.append(repeat[idx])
        else:
            block.lines.append(line)
            if repeat is not None and block.repeat is not None:
                block.repeat.append(repeat[idx])
    return block


def _segment(content: list[_Line]) -> tuple[list[_Line], list[_Block]]:
    """Split content lines (boilerplate removed) into the post's lines and the comment blocks."""
    units: list[tuple[str, list[_Line], list[_Line] | None]] = []
    i = 0
    while i < len(content):
        if content[i].text == SEPARATOR:
            units.append(("sep", [], None))
            i += 1
            continue
        k = _tandem_length(content, i)
        if k:
            units.append(("rep", content[i : i + k], content[i + k : i + 2 * k]))
            i += 2 * k
        else:
            units.append(("single", [content[i]], None))
            i += 1

    first = next((j for j, u in enumerate(units) if u[0] != "single"), None)
    if first is None:  # no comment structure at all: the whole page is the post
        return [line for u in units for line in u[1]], []

    post_units = units[:first]
    comment_units = units[first:]
    if units[first][0] == "sep" and post_units:
        # Blogger: nothing marks where the post ends; its first comment is the last paragraph
        # before the first "ReplyDelete" (lines after the last blank line), or the last line.
        pre = [u[1][0] for u in post_units]
        blank = max((j for j, line in enumerate(pre) if not line.text), default=None)
        cut = blank + 1 if blank is not None and blank + 1 < len(pre) else len(pre) - 1
        comment_units = [("single", [line], None) for line in pre[cut:]] + comment_units
        post_units = post_units[:cut]
    post = [u[1][0] for u in post_units]

    blocks: list[_Block] = []
    pending: list[_Line] = []

    def flush() -> None:
        lines = [line for line in pending if line.text]
        if lines:
            blocks.extend(_finish(group, None) for group in _split_at_signatures(lines))
        pending.clear()

    for kind, lines, repeat in comment_units:
        if kind == "sep":
            flush()
        elif kind == "rep":
            flush()
            assert repeat is not None
            start = 0
            for group in _split_at_signatures(lines):
                blocks.append(_finish(group, repeat[start : start + len(group)]))
                start += len(group)
        else:
            line = lines[0]
            if line.text.startswith("@") and any(p.text for p in pending):
                flush()  # "@Name – ..." opens a new answer
            pending.append(line)
    flush()
    return post, _merge_continuations(blocks)


def _merge_continuations(blocks: list[_Block]) -> list[_Block]:
    """A block starting with '…' that follows an unfinished sentence is the rest of that comment."""
    merged: list[_Block] = []
    for block in blocks:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and block.lines
            and block.lines[0].text.startswith(_CONTINUATION_START)
            and prev.author is None
            and prev.lines
            and not prev.lines[-1].text.endswith(_SENTENCE_END)
            and (prev.repeat is None) == (block.repeat is None)
        ):
            prev.lines.extend(block.lines)
            if prev.repeat is not None and block.repeat is not None:
                prev.repeat.extend(block.repeat)
            prev.author = block.author
            prev.signature_lines.extend(block.signature_lines)
            prev.repeat_signature_lines.extend(block.repeat_signature_lines)
            continue
        merged.append(block)
    return merged


def _raw(lines: list[_Line], source_lines: list[str]) -> str:
    numbers = sorted({line.number for line in lines})
    return "\n".join(source_lines[n - 1] for n in numbers)


def read_blog_text(text: str, thread_key: str) -> Iterator[dict]:
    """Records of one blog page: boilerplate runs, the post, and each comment occurrence."""
    source_lines = text.split("\n")
    all_lines = _split_lines(text)
    content = [line for line in all_lines if line.text and not is_boilerplate_line(line.text)]
    boiler = [line for line in all_lines if line.text and is_boilerplate_line(line.text)]
    post_lines, blocks = _segment(content)

    records: list[dict] = []
    base = {"platform": "blog", "thread_native_id": thread_key}
    # the post keeps its paragraph breaks: all page lines in its span that are not boilerplate
    if post_lines:
        first, last = post_lines[0].number, post_lines[-1].number
        paragraph_lines = [
            src.strip()
            for n, src in enumerate(source_lines[first - 1 : last], start=first)
            if not is_boilerplate_line(src)
        ]
        post_text = re.sub(r"\n{3,}", "\n\n", "\n".join(paragraph_lines)).strip()
        records.append(
            {
                **base,
                "kind": "post",
                "line_start": first,
                "line_end": last,
                "text": post_text,
                "raw": "\n".join(source_lines[first - 1 : last]),
            }
        )
    for block in blocks:
        if not block.lines:
            continue
        occurrence = block.lines + block.signature_lines
        records.append(
            {
                **base,
                "kind": "comment",
                "text": block.text,
                "author_name": block.author,
                "line_start": min(line.number for line in occurrence),
                "line_end": max(line.number for line in occurrence),
                "raw": _raw(occurrence, source_lines),
                "_block": id(block),
                "_first": True,
            }
        )
        if block.repeat:
            repeat = block.repeat + block.repeat_signature_lines
            records.append(
                {
                    **base,
                    "kind": "comment",
                    "text": "\n".join(line.text for line in block.repeat),
                    "author_name": block.author,
                    "line_start": min(line.number for line in repeat),
                    "line_end": max(line.number for line in repeat),
                    "raw": _raw(repeat, source_lines),
                    "_block": id(block),
                    "_first": False,
                }
            )
    # boilerplate, grouped into runs of neighbouring lines
    run: list[_Line] = []
    for line in [*boiler, None]:
        if line is not None and (not run or line.number - run[-1].number <= 2):
            run.append(line)
            continue
        if run:
            records.append(
                {
                    **base,
                    "kind": "boilerplate",
                    "line_start": run[0].number,
                    "line_end": run[-1].number,
                    "text": "\n".join(x.text for x in run),
                    "raw": _raw(run, source_lines),
                }
            )
        run = [line] if line is not None else []

    records.sort(key=lambda r: (r["line_start"], r["line_end"]))
    first_index: dict[int, int] = {}
    for index, record in enumerate(records):
        block_id = record.pop("_block", None)
        is_first = record.pop("_first", True)
        if block_id is not None:
            if is_first:
                first_index[block_id] = index
            else:
                record["duplicate_of_index"] = first_index.get(block_id)
        yield record
