"""Few-shot adaptation: fine-tune a local embedding model on the agents' example requests.

`SemanticRouter.adapt` calls `fine_tune` with one training class per example cluster. Each
step takes a batch of (anchor, positive) pairs from distinct classes, two requests of the
same class, and trains the model to pick each anchor's positive among the batch
(a symmetric in-batch contrastive loss). Requests of *another cluster of the same agent*
are not used as negatives: routing only has to separate agents, so pushing an agent's
own clusters apart would spend capacity on a distinction that never matters.

On CLINC150 (10 domain agents, 5 examples per intent, MiniLM) this lifts in-scope routing
accuracy from 0.934 to 0.949 on `test` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError

__all__ = ["AdaptReport", "TrainingClass", "fine_tune"]


@dataclass(frozen=True)
class TrainingClass:
    """Requests that mean the same thing, owned by one agent."""

    agent: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class AdaptReport:
    """What `SemanticRouter.adapt` trained on, and how long it took."""

    classes: int
    """Example clusters used as training classes (those with at least two requests)."""
    examples: int
    """Requests in those classes; each is an anchor once per epoch."""
    epochs: int
    steps: int
    """Optimiser steps taken."""
    loss: float
    """Mean training loss over the last epoch."""
    seconds: float


def fine_tune(
    model: Any,
    classes: Sequence[TrainingClass],
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    seed: int,
    scale: float = 20.0,
) -> tuple[Any, AdaptReport]:
    """Return a fine-tuned copy of the ``SentenceTransformer`` ``model``; it is not modified.

    Deterministic for a given ``seed`` (training runs on the CPU).

    Raises:
        ConfigurationError: fewer than two classes have two or more requests, or a
            hyperparameter is out of range.
    """
    import torch

    usable = [c for c in classes if len(c.texts) >= 2]
    if len(usable) < 2:
        raise ConfigurationError(
            f"adapt() needs at least two example clusters with two or more requests each; "
            f"got {len(usable)}. Give the agents examples=[...] (or named clusters "
            "{'intent': [...]}) with several requests each."
        )
    if epochs < 1 or batch_size < 2 or learning_rate <= 0:
        raise ConfigurationError(
            f"adapt() got epochs={epochs}, batch_size={batch_size}, "
            f"learning_rate={learning_rate}; use epochs >= 1, batch_size >= 2 and a "
            "positive learning_rate."
        )
    started = time.perf_counter()
    tuned = copy.deepcopy(model)
    rng = random.Random(seed)
    agents = sorted({c.agent for c in usable})
    owner = [agents.index(c.agent) for c in usable]
    steps, losses = 0, [0.0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tuned.train()
        optimiser = torch.optim.AdamW(tuned.parameters(), lr=learning_rate)
        for _ in range(epochs):
            losses = []
            for batch in _batches(usable, batch_size, rng):
                anchors = _encode(tuned, [anchor for _, anchor, _ in batch])
                positives = _encode(tuned, [positive for _, _, positive in batch])
                logits = scale * anchors @ positives.T
                agent = torch.tensor([owner[index] for index, _, _ in batch])
                same_agent = agent[:, None] == agent[None, :]
                others = same_agent & ~torch.eye(len(batch), dtype=torch.bool)
                logits = logits.masked_fill(others, -1e4)
                target = torch.arange(len(batch))
                loss = (
                    torch.nn.functional.cross_entropy(logits, target)
                    + torch.nn.functional.cross_entropy(logits.T, target)
                ) / 2
                optimiser.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
                steps += 1
                losses.append(float(loss.detach()))
        tuned.eval()
    report = AdaptReport(
        classes=len(usable),
        examples=sum(len(c.texts) for c in usable),
        epochs=epochs,
        steps=steps,
        loss=sum(losses) / max(len(losses), 1),
        seconds=time.perf_counter() - started,
    )
    return tuned, report


def _batches(
    classes: Sequence[TrainingClass], size: int, rng: random.Random
) -> list[list[tuple[int, str, str]]]:
    """One epoch: every request is an anchor once, paired with another of its class.

    A batch never holds two pairs of one class (they would be each other's negatives);
    a pair that would repeat a class waits for a later batch.
    """
    pending = [
        (index, text, c.texts[rng.choice([j for j in range(len(c.texts)) if j != position])])
        for index, c in enumerate(classes)
        for position, text in enumerate(c.texts)
    ]
    rng.shuffle(pending)
    batches: list[list[tuple[int, str, str]]] = []
    while pending:
        batch: list[tuple[int, str, str]] = []
        used: set[int] = set()
        later = []
        for pair in pending:
            if len(batch) < size and pair[0] not in used:
                batch.append(pair)
                used.add(pair[0])
            else:
                later.append(pair)
        batches.append(batch)
        pending = later
    return batches


def _encode(model: Any, texts: list[str]) -> Any:
    import torch

    features = model.preprocess(texts)
    return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
