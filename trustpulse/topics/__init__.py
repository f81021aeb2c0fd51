"""Topics: BERTopic fitted on the packaged MiniLM embeddings, a saved model new mentions are assigned to,
a zero-shot business taxonomy, and topic trends. Pure functions, Polars in / Polars out."""

from trustpulse.topics.config import DEFAULT_TAXONOMY, TopicConfig
from trustpulse.topics.model import OUTLIER, OUTLIER_LABEL, TopicFit, fit_sample, fit_topics
from trustpulse.topics.store import SavedTopics, assign_topics, load_topics, model_dir, save_topics
from trustpulse.topics.taxonomy import map_taxonomy
from trustpulse.topics.text import topic_input
from trustpulse.topics.trends import topic_trends

__all__ = [
    "DEFAULT_TAXONOMY",
    "OUTLIER",
    "OUTLIER_LABEL",
    "SavedTopics",
    "TopicConfig",
    "TopicFit",
    "assign_topics",
    "fit_sample",
    "fit_topics",
    "load_topics",
    "map_taxonomy",
    "model_dir",
    "save_topics",
    "topic_input",
    "topic_trends",
]
