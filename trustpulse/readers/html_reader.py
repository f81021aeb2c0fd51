"""HTML pages of blog posts with their comment threads.

BeautifulSoup (lxml) turns the page into text lines, block by block, after dropping what is never
content (scripts, styles, forms, navigation); the blog-text reader then finds the post and comments.
"""

from __future__ import annotations

from collections.abc import Iterator

from bs4 import BeautifulSoup

from trustpulse.readers.blog_text import read_blog_text

NON_CONTENT_TAGS = ("script", "style", "noscript", "template", "form", "nav", "iframe", "svg", "head")
BLOCK_TAGS = (
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "blockquote",
    "article",
    "section",
    "header",
    "footer",
    "aside",
    "pre",
    "hr",
    "dd",
    "dt",
    "table",
)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document or fragment, one block element per line."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(NON_CONTENT_TAGS):
        tag.decompose()
    for tag in soup(BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text("")


def read_html(html: str, thread_key: str) -> Iterator[dict]:
    text = "\n".join(line.strip() for line in html_to_text(html).split("\n"))
    yield from read_blog_text(text, thread_key)
