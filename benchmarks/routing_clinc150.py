"""Semantic routing on CLINC150: SemanticRouter beside semantic-router's default method.

The 10 domains are 10 agents. Each agent is profiled from 5 ``train`` examples per
intent, one cluster per intent (with the intent's name as one more example), and a
description naming the domain and its intents. Out-of-scope queries (``oos_*``) must go
to the fallback. The threshold is tuned on ``val`` + ``oos_val`` and everything is
reported on ``test`` + ``oos_test``, with the offline MiniLM embeddings (``"local"``).

Two SemanticRouters are measured: as built, and after ``adapt()`` (few-shot fine-tuning
of MiniLM on those same profile examples, nothing more). Each gets the two thresholds
``fit()`` would choose on validation data: the balanced one (maximising the mean of accuracy and OOS
recall) and ``min_accuracy=0.90`` (the best OOS recall keeping validation accuracy at or
above 0.90).

The baseline is semantic-router's default scoring (top-5 nearest examples, mean score
per route, threshold on that score), computed in the same run on the same (base MiniLM)
embeddings and tuned the same way on the same validation data.

    python benchmarks/routing_clinc150.py [--data ../shared/datasets/clinc150]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from graph_agents import Agent
from graph_agents.embeddings import LocalEmbeddings
from graph_agents.routers import SemanticRouter
from graph_agents.routers.semantic import tune_threshold

Matrix = npt.NDArray[np.float64]
EXAMPLES_PER_INTENT = 5
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "clinc150"


def load(data: Path) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
    splits = json.loads((data / "data_full.json").read_text())
    domains = json.loads((data / "domains.json").read_text())
    return splits, domains


def build_agents(splits: dict[str, list[Any]], domains: dict[str, list[str]]) -> list[Agent]:
    per_intent: dict[str, list[str]] = collections.defaultdict(list)
    for text, intent in splits["train"]:
        if len(per_intent[intent]) < EXAMPLES_PER_INTENT:
            per_intent[intent].append(text)
    agents = []
    for domain, intents in domains.items():
        names = ", ".join(i.replace("_", " ") for i in intents)
        clusters = {i: [*per_intent[i], i.replace("_", " ")] for i in intents}
        agents.append(
            Agent(domain, description=f"{domain.replace('_', ' ')}: {names}", examples=clusters)
        )
    return agents


MIN_ACCURACY = 0.90


def semantic_router_default(
    queries: Matrix, examples: Matrix, owner: npt.NDArray[np.int64], n_agents: int
) -> Matrix:
    """semantic-router's default: top-5 nearest examples, mean similarity per route."""
    sims = queries @ examples.T
    top = np.argsort(-sims, axis=1)[:, :5]
    scores = np.full((len(queries), n_agents), -1.0)
    for row in range(len(queries)):
        grouped: dict[int, list[float]] = collections.defaultdict(list)
        for column in top[row]:
            grouped[int(owner[column])].append(float(sims[row, column]))
        for agent, values in grouped.items():
            scores[row, agent] = float(np.mean(values))
    return scores


def report(
    name: str, scores: Matrix, labels: list[int], oos: Matrix, thresholds: dict[str, float]
) -> None:
    """Print test accuracy without a threshold, then accuracy and OOS recall per threshold."""
    truth = np.asarray(labels)
    predicted = scores.argmax(axis=1)
    best = scores.max(axis=1)
    print(f"{name:<28} in-scope accuracy, no threshold: {(predicted == truth).mean():.4f}")
    for policy, threshold in thresholds.items():
        accuracy = ((predicted == truth) & (best >= threshold)).mean()
        recall = (oos.max(axis=1) < threshold).mean()
        print(
            f"{'':<28} {policy:<18} threshold {threshold:.3f}: accuracy {accuracy:.4f}, "
            f"OOS recall {recall:.4f}"
        )


def fitted_thresholds(val: Matrix, labels: list[int], oos_val: Matrix) -> dict[str, float]:
    """Both thresholds from validation scores, chosen exactly as `SemanticRouter.fit()` does."""
    best = np.concatenate([val.max(axis=1), oos_val.max(axis=1)])
    correct = np.concatenate([val.argmax(axis=1) == np.asarray(labels), np.zeros(len(oos_val))])
    in_scope = np.concatenate([np.ones(len(val)), np.zeros(len(oos_val))]).astype(bool)
    return {
        policy: tune_threshold(best, correct.astype(bool), in_scope, min_accuracy=floor).threshold
        for policy, floor in (("balanced", None), (f"min_accuracy={MIN_ACCURACY}", MIN_ACCURACY))
    }


async def score_splits(
    router: SemanticRouter, agents: list[Agent], splits: dict[str, list[Any]]
) -> dict[str, Matrix]:
    """``router``'s scores for every split, each embedded once."""
    return {
        split: (await router.score_many([t for t, _ in splits[split]], agents))[1]
        for split in ("val", "oos_val", "test", "oos_test")
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="adapt()'s training seed")
    args = parser.parse_args()
    splits, domains = load(args.data)
    agents = build_agents(splits, domains)
    names = [agent.name for agent in agents]
    intent_to_agent = {i: names.index(d) for d, intents in domains.items() for i in intents}
    embeddings = LocalEmbeddings()
    labels = {s: [intent_to_agent[i] for _, i in splits[s]] for s in ("val", "test")}

    started = time.perf_counter()
    plain = SemanticRouter(embeddings, fallback=None)
    plain_scores = await score_splits(plain, agents, splits)
    print(f"SemanticRouter: scored in {time.perf_counter() - started:.1f}s")
    router = SemanticRouter("local", fallback=None)
    adapted = await router.adapt(agents, seed=args.seed)
    print(
        f"adapt(): {adapted.classes} clusters, {adapted.examples} examples, {adapted.epochs} "
        f"epochs, {adapted.steps} steps, final loss {adapted.loss:.4f}, {adapted.seconds:.0f}s"
    )
    ours_scores = await score_splits(router, agents, splits)

    # The baseline on the same embeddings: every profile text, and the queries.
    profile_texts: list[str] = []
    owner: list[int] = []
    for index, agent in enumerate(agents):
        assert isinstance(agent.examples, dict)
        for group in agent.examples.values():
            profile_texts.extend(group)
            owner.extend([index] * len(group))
    examples = _normalise(np.asarray(embeddings.embed_documents(profile_texts)))
    base = {
        split: semantic_router_default(
            _normalise(np.asarray(embeddings.embed_documents([t for t, _ in splits[split]]))),
            examples,
            np.asarray(owner),
            len(agents),
        )
        for split in ("val", "oos_val", "test", "oos_test")
    }

    print(
        f"\nCLINC150, 10 domain agents, {EXAMPLES_PER_INTENT} train examples per intent, "
        "local MiniLM; thresholds fitted on val + oos_val, reported on test + oos_test"
    )
    for name, scores in (
        ("SemanticRouter", plain_scores),
        ("SemanticRouter + adapt()", ours_scores),
        ("semantic-router default", base),
    ):
        thresholds = fitted_thresholds(scores["val"], labels["val"], scores["oos_val"])
        report(name, scores["test"], labels["test"], scores["oos_test"], thresholds)

    # Latency of the adapted router: one decision at a time, against encoding the query
    # alone with the base MiniLM (the adapted model has the same architecture).
    queries = [t for t, _ in splits["test"][: args.latency_queries]]
    model = _bare_model()
    model.encode([queries[0]])
    await router.decide(queries[0], agents)
    bare, routed = [], []
    for query in queries:
        started = time.perf_counter()
        model.encode([query], normalize_embeddings=True, show_progress_bar=False)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        await router.decide(query, agents)
        routed.append(time.perf_counter() - started)
    p50, p95 = _percentile(routed, 50), _percentile(routed, 95)
    encode_p50 = _percentile(bare, 50)
    print(
        f"\nlatency per decision: p50 {p50 * 1e3:.2f} ms, p95 {p95 * 1e3:.2f} ms; bare MiniLM "
        f"encode of one query p50 {encode_p50 * 1e3:.2f} ms; ratio {p50 / encode_p50:.2f}x"
    )


def _bare_model() -> Any:
    from graph_agents.embeddings import _local_model

    return _local_model()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _normalise(matrix: Matrix) -> Matrix:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


if __name__ == "__main__":
    asyncio.run(main())
