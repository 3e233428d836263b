"""Mutation testing of the core with cosmic-ray: how many small bugs the suite catches.

    bash scripts/mutation.sh                 # install cosmic-ray, then run this
    .venv/bin/python scripts/mutation.py --sample 150 --seed 1

Scope: ``routers/``, ``state.py``, ``nodes/``, ``steps.py``, ``tools.py``, ``_tool_types.py``,
``_calls.py``, ``_facade.py``, ``_threads.py``, ``_secrets.py``, ``checkpoints/``, the
event modules (``events.py``, ``_emitter.py``, ``streaming.py``), ``_composite.py`` and
``server/``;
``--scope PATH ...`` narrows it (e.g. to the files a change touched).
cosmic-ray lists every mutant of those files; this script drops the operators whose
mutants cannot change behaviour here, draws a seeded random sample of the rest, marks
the others skipped, and lets ``cosmic-ray exec`` run the sample. Each mutant is tested
by ``scripts/mutation.py --test``: it reads which file the mutant changed (``git diff``)
and runs the test files that cover it, stopping at the first failure. A failing or
hanging test run kills the mutant; a passing one lets it survive. The report lists the
kill rate and every survivor with its diff.

Dropped operators, and why:
- ``ReplaceBinaryOperator_BitOr_*``: every ``|`` in this code is in a type annotation,
  and annotations are not evaluated (``from __future__ import annotations``).
- ``RemoveDecorator``: removes ``@dataclass``/``@property``/``@staticmethod``, so every
  such mutant breaks imports; it measures nothing about the tests.
- ``ReplaceBinaryOperator_Mul_*`` on the bare ``*`` of a parameter list: it is no
  operator, and turning it into ``/`` (positional-only) changes nothing for the
  keyword callers.

It runs for about half an hour on 2 cores, so it stays out of CI; run it after changing
the core, and add tests for what survives.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCOPE = [
    "graph_agents/routers",
    "graph_agents/state.py",
    "graph_agents/nodes",
    "graph_agents/steps.py",
    "graph_agents/tools.py",
    "graph_agents/_tool_types.py",
    "graph_agents/_calls.py",
    "graph_agents/_facade.py",
    "graph_agents/_threads.py",
    "graph_agents/_secrets.py",
    "graph_agents/checkpoints",
    "graph_agents/events.py",
    "graph_agents/_emitter.py",
    "graph_agents/streaming.py",
    "graph_agents/_composite.py",
    "graph_agents/server",
]
DROPPED = re.compile(r"ReplaceBinaryOperator_BitOr_|RemoveDecorator")
EXCLUDED_FILES = {"graph_agents/routers/adaptation.py"}
"""Fine-tuning code: its tests load and train the real model (minutes per mutant)."""

ROUTER_TESTS = [
    "tests/routers/test_composite.py",
    "tests/routers/test_llm.py",
    "tests/routers/test_load_balancing.py",
    "tests/routers/test_rules.py",
    "tests/routers/test_semantic.py",
    "tests/test_routing.py",
    "tests/test_agent_names.py",
]
NODE_TESTS = [
    "tests/test_network.py",
    "tests/test_delegation.py",
    "tests/test_routing.py",
    "tests/test_threads.py",
    "tests/test_thread_status.py",
    "tests/test_tools.py",
    "tests/test_tool_timeouts.py",
    "tests/test_workflow.py",
    "tests/test_workflow_results.py",
    "tests/test_agent_names.py",
    "tests/test_state.py",
    "tests/test_validation.py",
    "tests/test_http_loop.py",
    "tests/test_odd_text.py",
    "tests/test_models.py",
    *ROUTER_TESTS,
]
APPROVAL_TESTS = [
    "tests/test_approval.py",
    "tests/test_workflow_approval.py",
    "tests/test_tool_context.py",
    "tests/test_time_travel.py",
]
CHECKPOINT_TESTS = [
    "tests/faults/test_postgres_faults.py",
    "tests/test_checkpoint_security.py",
    "tests/test_lean_checkpoints.py",
    "tests/test_conformance.py",
    "tests/test_tool_context.py",
    "tests/test_threads.py",
    "tests/test_time_travel.py",
    "tests/test_approval.py",
]
STREAM_TESTS = [
    "tests/test_streaming.py",
    "tests/test_network.py",
    "tests/test_workflow.py",
    "tests/test_docs.py",
]
SERVER_TESTS = ["tests/test_server.py", "tests/test_agui.py", "tests/test_web_view.py"]
POSTGRES_MODULES = {
    "graph_agents/checkpoints/postgres.py",
    "graph_agents/checkpoints/saver.py",
    "graph_agents/checkpoints/errors.py",
}
"""Mutants of these run with ``GRAPH_AGENTS_TEST_POSTGRES_DSN`` kept (when it is set)."""

TESTS_FOR = {
    "graph_agents/routers/": ROUTER_TESTS,
    "graph_agents/state.py": ["tests/test_state.py", "tests/test_odd_text.py", *NODE_TESTS],
    "graph_agents/nodes/": [
        *APPROVAL_TESTS,
        "tests/test_lean_checkpoints.py",
        *NODE_TESTS,
        "tests/test_streaming.py",
        "tests/test_composite_tool.py",
    ],
    "graph_agents/events.py": STREAM_TESTS,
    "graph_agents/_emitter.py": STREAM_TESTS,
    "graph_agents/streaming.py": STREAM_TESTS,
    "graph_agents/_composite.py": ["tests/test_composite_tool.py"],
    "graph_agents/memory/": ["tests/test_memory.py", "tests/test_docs.py"],
    "graph_agents/_spans.py": ["tests/test_tracing.py"],
    "graph_agents/_trace_settings.py": ["tests/test_tracing.py"],
    "graph_agents/tracing.py": ["tests/test_tracing.py", "tests/test_examples.py"],
    "graph_agents/drawing.py": ["tests/test_drawing.py", "tests/test_workflow.py"],
    "graph_agents/checkpoints/listing.py": ["tests/test_threads.py"],
    "graph_agents/nodes/memory.py": ["tests/test_memory.py", "tests/test_streaming.py"],
    "graph_agents/server/": SERVER_TESTS,
    "graph_agents/steps.py": [
        "tests/test_workflow.py",
        "tests/test_workflow_results.py",
        "tests/test_validation.py",
    ],
    "graph_agents/_facade.py": [*APPROVAL_TESTS, "tests/test_threads.py"],
    "graph_agents/_resume_answers.py": APPROVAL_TESTS,
    "graph_agents/_threads.py": [*APPROVAL_TESTS, "tests/test_threads.py"],
    "graph_agents/_secrets.py": ["tests/test_checkpoint_security.py", "tests/test_state.py"],
    "graph_agents/checkpoints/": CHECKPOINT_TESTS,
    "graph_agents/_tool_types.py": [
        *APPROVAL_TESTS,
        "tests/test_tools.py",
        "tests/test_tool_timeouts.py",
    ],
    "graph_agents/tools.py": [
        *APPROVAL_TESTS,
        "tests/test_tools.py",
        "tests/test_validation.py",
        "tests/test_tool_timeouts.py",
        "tests/test_network.py",
        "tests/test_odd_text.py",
    ],
    "graph_agents/_checks.py": [
        "tests/test_validation.py",
        "tests/test_memory.py",
        "tests/test_server.py",
        "tests/test_streaming.py",
    ],
    "graph_agents/_opening.py": ["tests/test_shutdown.py", "tests/test_durability.py"],
    "graph_agents/_calls.py": [
        "tests/test_models.py",
        "tests/test_http_loop.py",
        "tests/test_validation.py",
        "tests/test_network.py",
    ],
}


def run_tests() -> int:
    """The test command cosmic-ray runs for one mutant: the tests of the changed file."""
    changed = _git("diff", "--name-only", "--", "graph_agents").split()
    tests: list[str] = []
    for path in changed:
        for prefix, files in TESTS_FOR.items():
            if path.startswith(prefix):
                tests.extend(f for f in files if f not in tests)
    if not tests:
        tests = ["tests"]
    # A mutant of the same size written within the same second as the original would
    # pass Python's bytecode-cache check and run the original code: drop the cache.
    for cache in (ROOT / "graph_agents").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    # PostgreSQL tests are slow, so they run only for the modules that are about it.
    postgres = any(path in POSTGRES_MODULES for path in changed)
    env = {k: v for k, v in os.environ.items() if k != "GRAPH_AGENTS_TEST_POSTGRES_DSN" or postgres}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env={**env, "HF_HUB_OFFLINE": "1"},
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description="Mutation testing of the core (cosmic-ray).")
    parser.add_argument("--sample", type=int, default=150, help="mutants to run (default 150)")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed (default 1)")
    parser.add_argument("--session", default=None, help="session file (default: a temp dir)")
    parser.add_argument(
        "--retest",
        metavar="SESSION",
        default=None,
        help="run the survivors of an earlier session again (after adding tests)",
    )
    parser.add_argument(
        "--scope", nargs="+", default=None, help="only these files or folders (default: all)"
    )
    parser.add_argument("--test", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.test:
        return run_tests()
    if _git("status", "--porcelain", "--", "graph_agents").strip():
        sys.exit(
            "graph_agents/ has uncommitted changes; commit them first (mutants are "
            "detected with git diff)."
        )
    if args.retest:
        return retest(Path(args.retest))

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    folder = Path(tempfile.mkdtemp(prefix="graph-agents-mutation-"))
    session = Path(args.session) if args.session else folder / "session.sqlite"
    config = session.with_suffix(".toml")
    modules = ", ".join(f'"{m}"' for m in (args.scope or SCOPE))
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = [{modules}]\n"
        "timeout = 300.0\n"
        "excluded-modules = []\n"
        f'test-command = "{sys.executable} {Path(__file__).resolve()} --test"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    cosmic = [str(Path(sys.executable).parent / "cosmic-ray")]
    subprocess.run([*cosmic, "init", str(config), str(session)], cwd=ROOT, check=True)
    with use_db(str(session), WorkDB.Mode.open) as db:
        items = list(db.pending_work_items)
        eligible = [
            item
            for item in items
            if not DROPPED.search(item.mutations[0].operator_name)
            and str(item.mutations[0].module_path) not in EXCLUDED_FILES
            and not _is_parameter_star(item.mutations[0])
        ]
        eligible.sort(key=lambda item: item.job_id)
        sample = min(args.sample, len(eligible))
        chosen = {i.job_id for i in random.Random(args.seed).sample(eligible, sample)}
        for item in items:
            if item.job_id not in chosen:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    print(f"{len(items)} mutants, {len(eligible)} eligible, running a sample of {len(chosen)}")
    subprocess.run([*cosmic, "exec", str(config), str(session)], cwd=ROOT, check=True)
    return report(session)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def retest(session: Path) -> int:
    """Run the survivors of ``session`` again with today's tests; the rest stand."""
    import sqlite3

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    with use_db(str(session), WorkDB.Mode.open) as db:
        survivors = [
            item.job_id
            for item, result in db.completed_work_items
            if result.test_outcome == TestOutcome.SURVIVED
        ]
    with sqlite3.connect(session) as connection:
        connection.executemany(
            "DELETE FROM work_results WHERE job_id = ?", [(job,) for job in survivors]
        )
    print(f"running the {len(survivors)} survivors of {session} again")
    config = session.with_suffix(".toml")
    subprocess.run(
        [str(Path(sys.executable).parent / "cosmic-ray"), "exec", str(config), str(session)],
        cwd=ROOT,
        check=True,
    )
    return report(session)


def _is_parameter_star(mutation: Any) -> bool:
    """Whether the mutated ``*`` is the keyword-only marker of a parameter list."""
    if "ReplaceBinaryOperator_Mul_" not in mutation.operator_name:
        return False
    line = (ROOT / mutation.module_path).read_text().splitlines()[mutation.start_pos[0] - 1]
    rest = line[mutation.start_pos[1] + 1 :].lstrip()
    return line[mutation.start_pos[1]] == "*" and rest[:1] in (",", ")")


def report(session: Path) -> int:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    killed, survivors, by_file = 0, [], Counter[str]()
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            mutation = item.mutations[0]
            if result.test_outcome == TestOutcome.SURVIVED:
                survivors.append((item, result))
                by_file[str(mutation.module_path)] += 1
            else:
                killed += 1
    total = killed + len(survivors)
    for item, result in survivors:
        mutation = item.mutations[0]
        print(f"\nSURVIVED {mutation.module_path}:{mutation.start_pos[0]} {mutation.operator_name}")
        print(result.diff or "")
    print(f"\nsurvivors by file: {dict(by_file)}")
    print(f"killed {killed} of {total} mutants: kill rate {killed / max(total, 1):.1%}")
    print(f"session: {session}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
