"""Shared fixtures: the hand-written dumps in tests/fixtures and helpers to read and clean them."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from trustpulse.brands import BrandBook, load_brandbook
from trustpulse.cleaning.dump import CleanedDump, clean_dump
from trustpulse.readers import DumpSource, detect_format, read_dump
from trustpulse.settings import TrustpulseSettings
from trustpulse.tables import TABLES

FIXTURES = Path(__file__).parent / "fixtures"
CUSTOM_CSV_COLUMNS = {
    "id": "post_id",
    "platform": "network",
    "author": "user",
    "created_at": "posted",
    "text": "message",
    "url": "link",
}


@pytest.fixture
def settings(tmp_path: Path) -> TrustpulseSettings:
    return TrustpulseSettings(
        data_root=str(tmp_path / "data"),
        brands_file=str(FIXTURES / "brands.yaml"),
        pseudonym_key="test-key",
        csv_columns=CUSTOM_CSV_COLUMNS,
    )


@pytest.fixture
def book() -> BrandBook:
    return load_brandbook(FIXTURES / "brands.yaml")


def read_raw(path: Path, settings: TrustpulseSettings) -> pl.DataFrame:
    source = DumpSource(path)
    fmt = detect_format(source, settings.format_overrides, settings.csv_columns)
    chunks = list(read_dump(source, fmt, settings.csv_columns, chunk_rows=2))
    return pl.concat(chunks) if chunks else pl.DataFrame()


def with_contract_columns(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """`df` with every other column of the contract's `table` added as nulls, in the contract's order: a test
    table that sets only the columns it is about, shaped as its stage writes it."""
    schema = TABLES[table].schema
    nulls = [pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in df.columns]
    return df.with_columns(nulls).select(list(schema))


def clean_fixture(name: str, settings: TrustpulseSettings, book: BrandBook) -> tuple[pl.DataFrame, CleanedDump]:
    raw = read_raw(FIXTURES / name, settings)
    return raw, clean_dump(raw, settings, book, b"test-key")


@pytest.fixture
def landing(settings: TrustpulseSettings) -> Path:
    """A data root whose landing/ holds every fixture dump."""
    settings.landing_dir.mkdir(parents=True)
    for path in FIXTURES.iterdir():
        if path.is_file() and path.name != "brands.yaml":
            shutil.copy(path, settings.landing_dir / path.name)
    return settings.landing_dir


def save_tiny_classifier(directory: Path, seed: int, classifier_bias: tuple[float, float, float] | None = None) -> Path:
    """A tiny random BertForSequenceClassification (opaque LABEL_i names) with the packaged tokenizer, saved to
    `directory`: a stand-in for any Hugging Face model in the sentiment tests."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from trustpulse.sentiment.model import load_tokenizer

    torch.manual_seed(seed)
    tok = load_tokenizer()
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=3,
    )
    model = BertForSequenceClassification(cfg)
    if classifier_bias is not None:
        with torch.no_grad():
            model.classifier.bias.copy_(torch.tensor(classifier_bias))
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory
