"""Brands named in a mention, and its `mention_type` (direct / about / product / industry / other).

The four types are the four things a company must watch (see the seeds): people talking to it
(`direct`), about it (`about`), about features of products related to it (`product`) and about its
industry without naming it (`industry`). A mention matching none is `other`.
"""

from __future__ import annotations

from trustpulse.brands import BrandBook


def brands_named(text: str, book: BrandBook) -> list[str]:
    """Brands named by name/alias or addressed by an owned @handle, in config order."""
    found = []
    for brand in book.brands:
        if (brand.name_pattern and brand.name_pattern.search(text)) or (
            brand.handle_pattern and brand.handle_pattern.search(text)
        ):
            found.append(brand.name)
    return found


def addresses_owned_account(text: str, book: BrandBook) -> bool:
    return any(b.handle_pattern is not None and b.handle_pattern.search(text) for b in book.brands)


def mention_type(text: str, book: BrandBook, *, talks_to_owner: bool, named: list[str]) -> str:
    """`talks_to_owner`: a reply to an owner's mention, in a thread an owner started, or by an owner."""
    if talks_to_owner or addresses_owned_account(text, book):
        return "direct"
    if named:
        return "about"
    if any(b.product_pattern is not None and b.product_pattern.search(text) for b in book.brands):
        return "product"
    if any(b.industry_pattern is not None and b.industry_pattern.search(text) for b in book.brands):
        return "industry"
    return "other"


def industry_brands(text: str, book: BrandBook) -> list[str]:
    """Brands whose product or industry terms the text uses (for share of voice by category)."""
    return [
        b.name
        for b in book.brands
        if (b.product_pattern is not None and b.product_pattern.search(text))
        or (b.industry_pattern is not None and b.industry_pattern.search(text))
    ]
