"""The one place where trustpulse's configuration lives: plain pydantic models, each field and its
description declared once.

`TrustpulseSettings` (paths, cleaning, checks; `scoring` nested), `SentimentConfig` and `TopicStageConfig`
(which extends `trustpulse.topics.TopicConfig`, how topics are fitted) are what the core functions receive.
The CLI builds them from flags and the environment; `assets/resources.py` turns each into the Dagster
resource (`settings`, `sentiment`, `topics`) whose config the UI shows, field for field.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from trustpulse.embeddings import BATCH_SIZE
from trustpulse.readers.columns import EXPORT_COLUMNS
from trustpulse.readers.source import DEFAULT_LIMITS, ExpansionLimits
from trustpulse.sentiment.languages import DEFAULT_LANGUAGES
from trustpulse.sentiment.model import DEFAULT_MODEL
from trustpulse.storage import SCRATCH_ENV_VAR, StorePath, data_path, scratch_root, write_bytes_once
from trustpulse.topics.config import DEFAULT_TAXONOMY, TopicConfig

DATA_ENV_VAR = "TRUSTPULSE_DATA"
PSEUDONYM_KEY_ENV_VAR = "TRUSTPULSE_PSEUDONYM_KEY"
# An object-store data root (s3://bucket/prefix) is reached with the standard AWS configuration, read by botocore in
# every process (workers included): these variables, else ~/.aws/config and credentials, else an instance role.
# AWS_ENDPOINT_URL points at any S3-compatible server (MinIO, Ceph, moto); SCRATCH_ENV_VAR names the local
# directory for what stays on local disk (trustpulse.storage.scratch_root).
OBJECT_STORE_ENV_VARS = (
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    SCRATCH_ENV_VAR,
)
DEFAULT_BRANDS_FILE = Path(__file__).parent / "defaults" / "brands.yaml"
# Comments of this many words or more are where the packaged sentiment model is least reliable
# (bench/results/long_comments.json, `by_length`): the report flags a net sentiment built mostly on them.
LONG_COMMENT_WORDS = 80

PROJECT_FILE = "trustpulse.yaml"  # DATA/trustpulse.yaml: per-deployment reading options (`columns:`, `files:`)
COLUMNS_SIDECAR_SUFFIX = ".columns.yaml"  # landing/<dump>.columns.yaml: the column map of one dump
# Contract fields a column of a table export (CSV, TSV, Excel) can be mapped to.
COLUMN_FIELDS = tuple(EXPORT_COLUMNS)


# Immutable, and a misspelt field is an error rather than silently ignored (as in Dagster config).
MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid")


class ScoringConfig(BaseModel):
    """Parameters of the responsiveness and trust scores (docs/methodology.md explains each)."""

    model_config = MODEL_CONFIG

    period: Literal["day", "week", "month"] = Field(
        default="week",
        description="Period of the scores and of the topic trends: day, week (Monday-start) or month. Every "
        "score table also has period 'all'.",
    )
    abandon_after_unanswered: int = Field(
        default=3,
        description="A thread is abandoned when, after the owner's last reply, this many mentions needing an "
        "answer stay unanswered, or this many audience mentions follow in silence.",
    )
    abandon_channel_run: int = Field(
        default=10,
        description="A channel (owner x platform) is abandoned when, after the owner has answered there, this "
        "many consecutive mentions needing an answer go unanswered.",
    )
    canned_reply_ratio: float = Field(
        default=90.0, description="rapidfuzz ratio at or above which two owner replies are near-copies (canned)."
    )
    canned_reply_window: int = Field(
        default=1000,
        description="A reply is compared for near-copies with this many of the owner's distinct replies used before "
        "and after it (all pairs when the owner has fewer); exact repeats count over all history.",
    )
    min_mentions_ability: int = Field(default=10, description="Audience mentions needed for `ability`.")
    min_needs_benevolence: int = Field(default=5, description="Mentions needing an answer for `benevolence`.")
    min_signals_integrity: int = Field(
        default=5, description="Owner replies + owner threads + advocacy signals needed for `integrity`."
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: {"ability": 1 / 3, "benevolence": 1 / 3, "integrity": 1 / 3},
        description="Weights of the components in the trust index.",
    )
    benevolence_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "response_rate": 0.4,
            "negative_response_rate": 0.3,
            "response_time": 0.2,
            "recovery": 0.1,
        },
        description="Weights of response rate, negative-mention response rate, response time and recovery in "
        "benevolence.",
    )
    integrity_weights: dict[str, float] = Field(
        default_factory=lambda: {"consistency": 0.4, "personal_replies": 0.3, "advocacy": 0.3},
        description="Weights of consistency, personal replies and advocacy in integrity.",
    )
    response_time_horizon_minutes: float = Field(
        default=1440.0, description="A first response this slow (or slower) scores 0 on response time."
    )
    bootstrap_samples: int = Field(default=200, description="Bootstrap resamples (of threads) for intervals.")
    seed: int = Field(default=20261123, description="Seed of the bootstrap.")
    drivers_per_component: int = Field(default=5, description="Mentions listed per component and direction.")


def default_data_root() -> str:
    return os.environ.get(DATA_ENV_VAR, "./data")


class TrustpulseSettings(BaseModel):
    """Paths and cleaning rules for one trustpulse deployment."""

    model_config = MODEL_CONFIG

    data_root: str = Field(
        default_factory=default_data_root,
        description="Root of landing/ (dumps in), warehouse/ (parquet out), models/ and reports/: a directory, or "
        "an object-store URL such as s3://bucket/prefix (endpoint, region and credentials from the standard AWS "
        f"environment: {', '.join(OBJECT_STORE_ENV_VARS[:-1])}). With a directory, cache/, warehouse.duckdb and "
        f"dagster_home/ are under it too; with a URL they stay on local disk, under ${SCRATCH_ENV_VAR} "
        "(default ~/.cache/trustpulse)/s3/<bucket>/<prefix>.",
    )
    brands_file: str = Field(
        default="",
        description="Brands YAML. Empty: DATA_ROOT/brands.yaml if present, else the packaged default.",
    )
    pseudonym_key: str = Field(
        default="",
        description=(
            f"Key for the keyed hash that pseudonymises authors. Empty: ${PSEUDONYM_KEY_ENV_VAR}, else a "
            "random key generated once and kept in DATA_ROOT/.pseudonym_key."
        ),
    )
    format_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="File-name glob -> source format, for dumps whose format detection should be forced.",
    )
    csv_columns: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Column map for table exports (CSV, TSV, Excel): contract field (text, author, author_name, id, "
            "created_at, url, thread_id, in_reply_to, platform) -> column name. Wins over DATA/trustpulse.yaml "
            "and landing/<file>.columns.yaml; unmapped fields are found by known header names (readers/columns.py)."
        ),
    )
    phone_region: str = Field(default="US", description="Region for phone numbers written without +CC.")
    near_duplicate_ratio: float = Field(
        default=95.0,
        description="rapidfuzz ratio (0-100) at or above which two texts by one author in one thread "
        "answering the same parent are the same mention.",
    )
    min_lang_confidence: float = Field(
        default=0.6, description="Below this language-id probability the language is 'und'."
    )
    chunk_rows: int = Field(default=50_000, description="Records per chunk when streaming large dumps.")
    max_text_chars: int = Field(
        default=200_000, description="A record whose text is longer is quarantined (a page, not a mention)."
    )
    max_expanded_bytes: int = Field(
        default=DEFAULT_LIMITS.max_bytes,
        description="A compressed dump (.gz, a zip member) expanding past this many bytes is refused.",
    )
    max_expansion_ratio: float = Field(
        default=DEFAULT_LIMITS.max_ratio,
        description="A compressed dump expanding more than this many times its compressed size (beyond the "
        f"first {DEFAULT_LIMITS.floor_bytes >> 20} MiB) is refused as a possible archive bomb.",
    )
    scoring: ScoringConfig = Field(default_factory=ScoringConfig, description="Responsiveness and trust.")
    max_quarantine_share: float = Field(
        default=0.25, description="Asset check: the share of raw records quarantined may not exceed this."
    )
    max_sentiment_drift: float = Field(
        default=0.2,
        description="Asset check: total-variation distance between this and the previous sentiment label mix.",
    )
    freshness_hours: float = Field(default=8 * 24, description="Asset check: published tables older than this fail.")
    min_kpi_n: int = Field(
        default=5, description="Report: a KPI, interval or rate needs at least this many observations to be shown."
    )

    # ---- derived paths -------------------------------------------------------------------------
    @property
    def root(self) -> StorePath:
        """The data root: an absolute `Path`, or a `UPath` for an object-store URL (`trustpulse.storage`)."""
        return data_path(self.data_root)

    @property
    def scratch_dir(self) -> Path:
        """Local disk for what never goes to an object store: the data root itself when it is a directory."""
        return scratch_root(self.root)

    @property
    def landing_dir(self) -> StorePath:
        return self.root / "landing"

    @property
    def warehouse_dir(self) -> StorePath:
        return self.root / "warehouse"

    @property
    def cache_dir(self) -> Path:
        """Model runtime builds and the sentiment / embedding shard caches (local: rewritten shard by shard)."""
        return self.scratch_dir / "cache"

    @property
    def duckdb_path(self) -> Path:
        return self.scratch_dir / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.scratch_dir / "dagster_home"

    def brands_path(self) -> StorePath:
        if self.brands_file:
            return Path(self.brands_file).expanduser().resolve()
        local = self.root / "brands.yaml"
        return local if local.exists() else DEFAULT_BRANDS_FILE

    def expansion_limits(self) -> ExpansionLimits:
        return ExpansionLimits(max_bytes=self.max_expanded_bytes, max_ratio=self.max_expansion_ratio)

    def column_map_for(self, dump_name: str) -> dict[str, str]:
        """The column map (contract field -> column name) for one table export. Later sources win:
        DATA/trustpulse.yaml `columns:`, its `files: {glob: {columns: ...}}` entries matching the dump,
        `landing/<file>.columns.yaml` beside the dump (for an archive member, beside the archive), then
        `csv_columns` (configuration or `trustpulse run --columns`)."""
        archive_or_file = dump_name.split("/", 1)[0]
        merged: dict[str, str] = {}
        project = self.root / PROJECT_FILE
        if project.exists():
            doc = _yaml_mapping(project)
            merged.update(_columns(doc.get("columns"), project))
            for pattern, spec in (doc.get("files") or {}).items():
                if fnmatch.fnmatch(dump_name, pattern) or fnmatch.fnmatch(archive_or_file, pattern):
                    merged.update(_columns((spec or {}).get("columns"), project))
        sidecar = self.landing_dir / f"{archive_or_file}{COLUMNS_SIDECAR_SUFFIX}"
        if sidecar.exists():
            doc = _yaml_mapping(sidecar)
            merged.update(_columns(doc.get("columns", doc), sidecar))
        merged.update(_columns(self.csv_columns, Path("csv_columns")))
        return merged

    def resolved_pseudonym_key(self) -> bytes:
        """The pseudonymisation key: config, then environment, then a key file under the data root."""
        key = self.pseudonym_key or os.environ.get(PSEUDONYM_KEY_ENV_VAR, "")
        if key:
            return key.encode()
        # created once; concurrent first steps (two workers ingesting at once) all read the one that won
        return write_bytes_once(secrets.token_hex(32).encode(), self.root / ".pseudonym_key").strip()


class SentimentConfig(BaseModel):
    """Which sentiment model scores the mentions."""

    model_config = MODEL_CONFIG

    model: str = Field(
        default=DEFAULT_MODEL,
        description="'trustpulse-minilm-sentiment' (our fine-tuned classifier on the packaged base), or any "
        "Hugging Face sequence-classification model id or local path (e.g. "
        "cardiffnlp/twitter-roberta-base-sentiment-latest, "
        "or a multilingual one such as cardiffnlp/twitter-xlm-roberta-base-sentiment with languages=[]).",
    )
    languages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES),
        description="Languages (ISO 639-1, as in mentions.lang) the model reads; mentions in others are not "
        "scored (not_scored_reason 'language'). Undetermined ('und') is scored. Empty list: score every language.",
    )
    label_map: dict[str, str] = Field(
        default_factory=dict, description="The model's label names -> negative / neutral / positive."
    )
    quantize: bool | None = Field(
        default=None,
        description="None: our model runs in ONNX Runtime on CPU (short windows static int8, long ones fp32; "
        "batch-invariant), others torch fp32. "
        "False: torch fp32. True on another model: torch dynamic int8 (batch-dependent scores).",
    )
    batch_size: int = Field(default=BATCH_SIZE, description="Texts per forward pass.")
    device: str = Field(default="cpu", description="torch device: 'cpu', or 'cuda' where a GPU is available.")


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class TopicStageConfig(TopicConfig):
    """The topics stage: how topics are fitted (the fields of `TopicConfig`), the business taxonomy, the
    encoder's device and the rising-topic test. The trends' period is `ScoringConfig.period`. A dataclass,
    as `TopicConfig` is (`trustpulse.topics` copies and records that one with `dataclasses`)."""

    taxonomy: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TAXONOMY),
        description="Business taxonomy: name -> one-sentence description, mapped zero-shot.",
    )
    taxonomy_min_score: float = Field(
        default=0.0, description="Below this cosine similarity a mention gets no taxonomy label."
    )
    refit: bool = Field(default=False, description="Refit the topic model instead of assigning to it.")
    device: str = Field(default="cpu", description="Encoder device: 'cpu', or 'cuda' where a GPU is available.")
    rising_alpha: float = Field(default=0.05, description="Significance level of the rising-topic test.")
    rising_min_mentions: int = Field(default=10, description="A rising topic has at least this many.")

    def topic_config(self) -> TopicConfig:
        """How topics are fitted: this configuration without the stage's own fields (what a saved model's
        manifest records)."""
        return TopicConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(TopicConfig)})


def _yaml_mapping(path: StorePath) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return doc


def _columns(value: object, where: StorePath) -> dict[str, str]:
    """A validated column map: known contract fields to column names."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: `columns` must map fields to column names, e.g. text: Hit Sentence")
    unknown = sorted(set(value) - set(COLUMN_FIELDS))
    if unknown:
        raise ValueError(f"{where}: unknown column field(s) {unknown}; known: {', '.join(COLUMN_FIELDS)}")
    return {str(k): str(v) for k, v in value.items()}


def parse_column_option(option: str) -> dict[str, str]:
    """`text=Hit Sentence,author=Influencer` (the `--columns` option) -> a validated column map."""
    pairs = [p for p in option.split(",") if p.strip()]
    if any("=" not in p for p in pairs):
        raise ValueError(f"--columns {option!r}: expected FIELD=COLUMN pairs separated by commas")
    return _columns({k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}, Path("--columns"))
