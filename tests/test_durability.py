"""Crash recovery and resume anywhere: SIGKILL a network process mid-tool or mid-model-call,
resume in a fresh process, and prove from the call log that nothing completed ran twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .crash_worker import Log

WORKER = str(Path(__file__).with_name("crash_worker.py"))


def start(durable: tuple[str, str], thread: str, command: str, log: Log, *extra: str) -> Any:
    kind, where = durable
    return subprocess.Popen(
        [sys.executable, WORKER, kind, where, thread, command, str(log.path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: Any) -> dict[str, Any]:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def kill_when(process: Any, log: Log, **entry: Any) -> None:
    deadline = time.monotonic() + 30
    while not any(all(e.get(k) == v for k, v in entry.items()) for e in log.entries()):
        if process.poll() is not None:
            raise AssertionError(f"the worker exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker never logged {entry}")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def tally(log: Log) -> Counter[tuple[str, Any]]:
    return Counter(
        (e["event"], e.get("turn", e.get("item"))) for e in log.entries() if "event" in e
    )


@pytest.mark.parametrize("hang", ["tool", "model"])
def test_sigkill_then_resume_repeats_nothing_completed(
    durable: tuple[str, str], tmp_path: Path, hang: str
) -> None:
    log = Log(str(tmp_path / f"calls-{hang}.jsonl"))
    thread = f"crash-{uuid.uuid4()}"
    first = start(durable, thread, f"run:{hang}", log)
    if hang == "tool":
        kill_when(first, log, event="tool.start", item="b")
    else:
        kill_when(first, log, event="model.start", turn=2)

    result = finish(start(durable, thread, "resume", log))
    retries = result.pop("lock_retries")
    assert result == {"output": "Shipped a and b.", "stop_reason": "completed", "interrupts": []}
    # The killed holder's lock did not outlive it: SQLite's flock is gone with the
    # process; PostgreSQL drops the advisory lock once it sees the connection closed.
    assert retries == 0 if durable[0] == "sqlite" else retries < 100
    counts = tally(log)
    # Every completed model call and tool call happened exactly once; only the call the
    # kill interrupted started twice.
    assert counts[("model.end", 1)] == counts[("model.end", 2)] == counts[("model.end", 3)] == 1
    assert counts[("tool.start", "a")] == counts[("tool.end", "a")] == 1
    assert counts[("tool.end", "b")] == 1
    if hang == "tool":
        assert counts[("model.start", 2)] == 1
        assert counts[("tool.start", "b")] == 2
        b = [e for e in log.entries() if e["event"] == "tool.start" and e["item"] == "b"]
        assert [e["attempt"] for e in b] == [1, 2]
        assert b[0]["key"] == b[1]["key"]
        assert b[0]["pid"] != b[1]["pid"]
        a = next(e for e in log.entries() if e["event"] == "tool.start" and e["item"] == "a")
        assert a["key"] != b[0]["key"]
    else:
        assert counts[("model.start", 2)] == 2
        assert counts[("tool.start", "b")] == 1


def test_a_pending_approval_is_answered_by_another_process(
    durable: tuple[str, str], tmp_path: Path
) -> None:
    log = Log(str(tmp_path / "calls.jsonl"))
    thread = f"approve-{uuid.uuid4()}"
    paused = finish(start(durable, thread, "run:none", log, "approval"))
    paused.pop("lock_retries")
    assert paused["stop_reason"] == "interrupted"
    assert len(paused["interrupts"]) == 1

    done = finish(start(durable, thread, "approve", log, "approval"))
    done.pop("lock_retries")
    assert done == {"output": "Shipped a and b.", "stop_reason": "completed", "interrupts": []}
    counts = tally(log)
    assert counts[("model.end", 1)] == counts[("model.end", 2)] == counts[("model.end", 3)] == 1
    assert counts[("tool.start", "a")] == counts[("tool.start", "b")] == 1
    pids = {e["pid"] for e in log.entries() if e["event"] == "tool.start"}
    assert len(pids) == 2
