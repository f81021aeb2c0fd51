"""Visible text of HTML: the one definition shared by the readers (comment bodies) and the cleaning (mention
texts that are markup). Lives in `cleaning` so the dependency runs one way: readers import cleaning, never back."""

from __future__ import annotations

from bs4 import BeautifulSoup

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
