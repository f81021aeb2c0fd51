"""Our sentiment classifier's weights: built from the base encoder, saved and loaded without the word embeddings.

The classifier is a BERT sequence classifier whose encoder layers are a subset of the base's six
(``base_layers``, e.g. ``[0, 2, 5]`` for a three-layer student). Training never updates the word embeddings
(11.7M of the base's 22.7M parameters), so a checkpoint holds every other tensor (fp16) and takes the word
embeddings from the sha256-verified base package at load: a 6-layer checkpoint is ~22 MB, a 3-layer one ~11 MB.

This module imports only torch, transformers and safetensors (lazily) so that training runs on a machine that
has them and nothing else of the project's dependencies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LABELS = ("negative", "neutral", "positive")
FORMAT = "trustpulse-sentiment-classifier/1"
WEIGHTS_FILE = "classifier.safetensors"
# Weights over this size are saved in shards (``classifier.safetensors``, ``classifier.2.safetensors``, ...): the
# repository keeps no file over 15 MB, and a 6-layer checkpoint is 22 MB.
MAX_SHARD_BYTES = 12 * 2**20
CONFIG_FILE = "classifier.json"
# A model may be two checkpoints: the main one reads long windows and names, under this key, the one that reads
# windows of at most ``onnx_runtime.SHORT_WINDOW_TOKENS`` tokens (``short_windows_checkpoint``).
SHORT_WINDOWS_KEY = "short_windows"
SHORT_WINDOWS_DIR = "short_windows"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


def evenly_spaced_layers(n_layers: int, base_layers: int = 6) -> list[int]:
    """Base layer indices a student of ``n_layers`` starts from: first and last kept, the rest evenly between."""
    if not 1 <= n_layers <= base_layers:
        raise ValueError(f"a student has 1..{base_layers} layers, not {n_layers}")
    if n_layers == 1:
        return [base_layers - 1]
    step = (base_layers - 1) / (n_layers - 1)
    return [round(i * step - 1e-9) for i in range(n_layers)]


def _base_state(base_dir: Path, layers: list[int]) -> dict[str, Any]:
    """The base's tensors renamed for ``BertForSequenceClassification`` with encoder layers ``layers``, fp32."""
    from safetensors.torch import load_file

    renumber = {str(src): str(dst) for dst, src in enumerate(layers)}
    state: dict[str, Any] = {}
    for key, tensor in load_file(str(base_dir / "model.safetensors")).items():
        if key.startswith("encoder.layer."):
            index, _, rest = key[len("encoder.layer.") :].partition(".")
            if index not in renumber:
                continue
            key = f"encoder.layer.{renumber[index]}.{rest}"
        name = key if key.startswith("classifier.") else "bert." + key  # a head, where the base has one
        state[name] = tensor.float() if tensor.is_floating_point() else tensor
    return state


def build_classifier(base_dir: Path | str, layers: list[int]) -> Any:
    """A 3-way BERT classifier initialised from the base encoder's ``layers`` (classifier head fresh)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    base_dir = Path(base_dir)
    config = BertConfig.from_pretrained(str(base_dir), local_files_only=True)
    config.num_hidden_layers = len(layers)
    config.num_labels = len(LABELS)
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {label: i for i, label in enumerate(LABELS)}
    torch.manual_seed(0)  # the fresh head's initialisation; the training seed is set after this
    model = BertForSequenceClassification(config)
    missing, unexpected = model.load_state_dict(_base_state(base_dir, layers), strict=False)
    missing = [k for k in missing if not k.startswith("classifier.") and not k.endswith("position_ids")]
    unexpected = [k for k in unexpected if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"base weights in {base_dir} do not fit: missing {missing}, unexpected {unexpected}")
    return model


def weight_files(checkpoint_dir: Path) -> list[Path]:
    """A checkpoint's weight shards in order: ``classifier.safetensors``, then ``classifier.2.safetensors``, ..."""
    shards = [checkpoint_dir / WEIGHTS_FILE]
    while (nxt := checkpoint_dir / f"classifier.{len(shards) + 1}.safetensors").is_file():
        shards.append(nxt)
    return shards


def save_classifier(model: Any, out_dir: Path, layers: list[int], meta: dict[str, Any]) -> Path:
    """Write ``classifier.safetensors`` (every tensor but the word embeddings, fp16; more shards when over
    ``MAX_SHARD_BYTES``) and ``classifier.json``."""
    state = {
        k: v.detach().to("cpu").half().contiguous()
        for k, v in model.state_dict().items()
        if k != WORD_EMBEDDINGS and v.is_floating_point()
    }
    save_weights(state, out_dir)
    config = {"format": FORMAT, "labels": list(LABELS), "base_layers": list(layers), **meta}
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return out_dir / WEIGHTS_FILE


def save_weights(state: dict[str, Any], out_dir: Path) -> None:
    """``state`` as safetensors shards of at most ``MAX_SHARD_BYTES`` each (tensors in their order; old shards
    removed)."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in weight_files(out_dir):
        old.unlink(missing_ok=True)
    shards: list[dict[str, Any]] = [{}]
    size = 0
    for name, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > MAX_SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    for i, shard in enumerate(shards):
        save_file(shard, str(out_dir / (WEIGHTS_FILE if i == 0 else f"classifier.{i + 1}.safetensors")))


def read_config(checkpoint_dir: Path) -> dict[str, Any]:
    config = json.loads((checkpoint_dir / CONFIG_FILE).read_text())
    if config.get("format") != FORMAT:
        raise ValueError(f"{checkpoint_dir / CONFIG_FILE}: not a {FORMAT} checkpoint")
    return config


def short_windows_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The checkpoint that reads this model's short windows, when it names one (``SHORT_WINDOWS_KEY`` in its
    ``classifier.json``: a subdirectory holding a checkpoint of the same run); ``None``: it reads every window."""
    name = read_config(checkpoint_dir).get(SHORT_WINDOWS_KEY)
    if name is None:
        return None
    short = checkpoint_dir / name
    if not (short / CONFIG_FILE).is_file() or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"{checkpoint_dir / CONFIG_FILE}: {SHORT_WINDOWS_KEY} {name!r} is not a checkpoint below it")
    return short


def attach_short_windows(checkpoint_dir: Path, short_checkpoint: Path) -> None:
    """Copy ``short_checkpoint`` into ``checkpoint_dir`` and name it as the reader of short windows."""
    import shutil

    target = checkpoint_dir / SHORT_WINDOWS_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in (short_checkpoint / CONFIG_FILE, *weight_files(short_checkpoint)):
        shutil.copy2(path, target / path.name)
    config = read_config(checkpoint_dir) | {SHORT_WINDOWS_KEY: SHORT_WINDOWS_DIR}
    (checkpoint_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def load_classifier(checkpoint_dir: Path | str, base_dir: Path | str) -> Any:
    """The saved classifier in fp32: checkpoint tensors + the base's word embeddings (the caller verifies the base)."""
    from safetensors.torch import load_file

    checkpoint_dir = Path(checkpoint_dir)
    layers = read_config(checkpoint_dir)["base_layers"]
    model = build_classifier(base_dir, layers)
    saved = {k: v.float() for shard in weight_files(checkpoint_dir) for k, v in load_file(str(shard)).items()}
    missing, unexpected = model.load_state_dict(saved, strict=False)
    missing = [k for k in missing if k != WORD_EMBEDDINGS and not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"{checkpoint_dir / WEIGHTS_FILE} does not fit: missing {missing}, unexpected {unexpected}")
    return model.eval()


def export_as_base(checkpoint_dir: Path | str, base_dir: Path | str, out_dir: Path | str) -> Path:
    """Write a checkpoint (with the base's word embeddings) as a base directory in fp16, head included.

    Distillation from a trained classifier (``train --distill-from``) reads it like the base: students start
    from its layers and its head, and its logits are their soft labels. fp16 halves what travels to a GPU.
    """
    import shutil

    from safetensors.torch import save_file

    base_dir, out_dir = Path(base_dir), Path(out_dir)
    model = load_classifier(checkpoint_dir, base_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (base_dir / name).is_file():
            shutil.copy2(base_dir / name, out_dir / name)
    state = {
        k.removeprefix("bert."): (v.half() if v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    save_file(state, str(out_dir / "model.safetensors"))
    return out_dir
