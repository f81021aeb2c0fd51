"""Brands configuration (one YAML file) and the text matchers built from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml


class BrandsConfigError(ValueError):
    """The brands YAML is missing or malformed; the message names the file and the entry."""


def _word_pattern(terms: list[str]) -> re.Pattern[str] | None:
    terms = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in terms)
    return re.compile(rf"(?<![\w@#])(?:{alternatives})(?!\w)", re.IGNORECASE)


def normalise_handle(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


@dataclass(frozen=True)
class Brand:
    name: str
    aliases: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    industry_terms: tuple[str, ...] = ()
    product_terms: tuple[str, ...] = ()

    @cached_property
    def name_pattern(self) -> re.Pattern[str] | None:
        return _word_pattern([self.name, *self.aliases])

    @cached_property
    def handle_pattern(self) -> re.Pattern[str] | None:
        handles = [normalise_handle(a) for a in self.accounts]
        if not handles:
            return None
        alternatives = "|".join(re.escape(h) for h in sorted(handles, key=len, reverse=True))
        return re.compile(rf"@(?:{alternatives})(?!\w)", re.IGNORECASE)

    @cached_property
    def industry_pattern(self) -> re.Pattern[str] | None:
        return _word_pattern(list(self.industry_terms))

    @cached_property
    def product_pattern(self) -> re.Pattern[str] | None:
        return _word_pattern(list(self.product_terms))

    @cached_property
    def account_keys(self) -> frozenset[str]:
        return frozenset(normalise_handle(a) for a in self.accounts)


@dataclass(frozen=True)
class BrandBook:
    brands: tuple[Brand, ...] = field(default_factory=tuple)
    source: str = "<empty>"

    def owner_brand(self, handle: str | None) -> str | None:
        """The brand that owns this account handle or author id, if any."""
        if not handle:
            return None
        key = normalise_handle(handle)
        for brand in self.brands:
            if key in brand.account_keys:
                return brand.name
        return None


def _str_list(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise BrandsConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(str(v) for v in value)


def load_brandbook(path: Path) -> BrandBook:
    """Read and validate the brands YAML."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise BrandsConfigError(f"{path}: brands file not found") from exc
    except yaml.YAMLError as exc:
        raise BrandsConfigError(f"{path}: invalid YAML: {exc}") from exc
    entries = data.get("brands", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BrandsConfigError(f"{path}: expected a top-level 'brands:' list")
    brands = []
    for i, entry in enumerate(entries):
        where = f"{path}: brands[{i}]"
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise BrandsConfigError(f"{where}: every brand needs a 'name'")
        brands.append(
            Brand(
                name=str(entry["name"]).strip(),
                aliases=_str_list(entry, "aliases", where),
                accounts=_str_list(entry, "accounts", where),
                industry_terms=_str_list(entry, "industry_terms", where),
                product_terms=_str_list(entry, "product_terms", where),
            )
        )
    return BrandBook(brands=tuple(brands), source=str(path))
