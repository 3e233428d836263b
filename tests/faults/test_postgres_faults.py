"""PostgreSQL at load and under faults, on the loopback server.

Each test runs in a database of its own (``fresh_dsn``), so terminating "every backend"
touches nothing else. Every test asserts the same things: no silent loss, no raw driver
exception, a run reported completed is in the thread's history, every thread can be
completed, and the history is exact.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from graph_agents import ConcurrentRunError, PostgresStateStore, SqliteStateStore, StoreError
from tests.faults.conftest import backends, terminate_backends
from tests.faults.workload import exact_history, network

ROOT = Path(__file__).resolve().parents[2]


def workload_process(dsn: str, *args: str) -> subprocess.Popen[str]:
    """The workload in a process of its own (see `tests.faults.workload`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.workload", dsn, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lease_fence(dsn: str, thread: str) -> int | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT fence FROM graph_agents_thread_leases WHERE thread_id = %s", (thread,)
        ).fetchone()
    return None if row is None else int(row[0])


async def until(condition: Callable[[], bool]) -> None:
    """Wait (at most 10 s) until ``condition()`` holds."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - a condition outside this process
            await asyncio.sleep(0.02)


async def values_of(net: Any, thread: str) -> dict[str, Any]:
    state = await net.get_state(thread)
    assert state is not None
    return {"messages": state.messages, "shared": state.state}


async def complete(net: Any, thread: str, query: str, error: BaseException) -> None:
    """Finish a run that failed with ``error`` the way its error says to."""
    assert isinstance(error, StoreError), f"{type(error).__name__}: {error}"
    assert isinstance(error.__cause__, psycopg.Error)
    if error.written:
        assert error.retry_safe is False
        result = await net.resume(thread)
    else:
        assert error.retry_safe is True
        result = await net.run(query, thread_id=thread)
    assert result.stop_reason == "completed"


async def test_runs_beyond_the_pool_queue_and_complete(fresh_dsn: str) -> None:
    net = network(PostgresStateStore(fresh_dsn, pool_size=2), delay=0.01)
    threads = [f"t{i}" for i in range(16)]
    async with net:
        results = await asyncio.wait_for(
            asyncio.gather(*(net.run(f"q {t}", thread_id=t) for t in threads)), timeout=60
        )
        assert [r.output for r in results] == [f"filed q {t}" for t in threads]
        # The pool's two connections and the one lock connection, however many runs.
        assert backends(fresh_dsn) == {"graph_agents": 2, "graph_agents lock": 1}
        for thread in threads:
            exact_history(await values_of(net, thread), [f"q {thread}"])


async def test_concurrent_first_runs_open_one_pool_and_set_up_once(fresh_dsn: str) -> None:
    net = network(PostgresStateStore(fresh_dsn, pool_size=3))
    async with net:
        results = await asyncio.gather(*(net.run("hi", thread_id=f"t{i}") for i in range(8)))
        assert {r.output for r in results} == {"filed hi"}
        # One pool (at most its three connections) and one lock connection: eight pools
        # would hold eight connections at least.
        seen = backends(fresh_dsn)
        assert seen["graph_agents lock"] == 1
        assert 1 <= seen["graph_agents"] <= 3


def test_three_processes_set_up_a_new_database_together(fresh_dsn: str) -> None:
    workers = [workload_process(fresh_dsn, f"p{i}", f"from {i}") for i in range(3)]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    assert outcomes == [{"output": f"filed from {i}", "stop_reason": "completed"} for i in range(3)]


async def test_every_backend_terminated_twice_with_30_runs_in_flight(fresh_dsn: str) -> None:
    net = network(PostgresStateStore(fresh_dsn), delay=0.03)
    threads = [f"t{i}" for i in range(30)]
    async with net:
        await net.run("warm up", thread_id="warm")
        runs = [asyncio.ensure_future(net.run(f"q {t}", thread_id=t)) for t in threads]
        killed = 0
        for pause in (0.08, 0.12):
            await asyncio.sleep(pause)
            assert not any(run.done() for run in runs)
            killed += await asyncio.to_thread(terminate_backends, fresh_dsn)
        outcomes = await asyncio.gather(*runs, return_exceptions=True)
        # Both rounds hit the pool and the lock connection in the middle of the runs.
        assert killed >= 4
        failures = {
            t: o for t, o in zip(threads, outcomes, strict=True) if isinstance(o, BaseException)
        }
        for thread, outcome in zip(threads, outcomes, strict=True):
            if thread in failures:
                await complete(net, thread, f"q {thread}", failures[thread])
            else:
                assert outcome.stop_reason == "completed"  # type: ignore[union-attr]
        for thread in threads:
            exact_history(await values_of(net, thread), [f"q {thread}"])


async def test_new_runs_succeed_right_after_every_connection_died(fresh_dsn: str) -> None:
    net = network(PostgresStateStore(fresh_dsn, pool_size=4))
    async with net:
        await asyncio.gather(*(net.run("warm", thread_id=f"w{i}") for i in range(4)))
        open_now = sum(backends(fresh_dsn).values())
        assert open_now >= 2
        assert terminate_backends(fresh_dsn) == open_now
        for i in range(8):
            result = await net.run(f"after {i}", thread_id=f"n{i}")
            assert result.output == f"filed after {i}"


async def test_a_run_whose_lock_connection_dies_is_fenced_off(fresh_dsn: str) -> None:
    waiter = workload_process(fresh_dsn, "shared", "from B", "--wait")
    assert waiter.stdin is not None
    assert waiter.stdout is not None
    assert json.loads(await asyncio.to_thread(waiter.stdout.readline)) == {"ready": True}
    net = network(PostgresStateStore(fresh_dsn), delay=1.0)
    async with net:
        first = asyncio.ensure_future(net.run("from A", thread_id="shared"))
        await until(lambda: "graph_agents lock" in backends(fresh_dsn))
        await asyncio.sleep(0.1)  # A holds the thread; it is in its first model call
        waiter.stdin.write("go\n")
        waiter.stdin.flush()
        await asyncio.sleep(0.1)  # B is trying the thread, and finds it busy
        assert not first.done()
        holder = net._runner._per_loop[asyncio.get_running_loop()].saver.connections
        assert terminate_backends(fresh_dsn, pid=holder._lock_conn.info.backend_pid) == 1
        # B takes the thread over (the fence moves on) while A still waits for its model.
        await until(lambda: lease_fence(fresh_dsn, "shared") == 2)
        assert not first.done()
        out, err = await asyncio.to_thread(waiter.communicate, timeout=60)
        assert json.loads(out.strip().splitlines()[-1]) == {
            "output": "filed from B",
            "stop_reason": "completed",
        }, err
        with pytest.raises(StoreError, match="lost its thread lock") as error:
            await first
        assert (error.value.retry_safe, error.value.written) == (False, True)
        # B's run, told it succeeded, is the thread's latest state; A wrote nothing after.
        state = await net.get_state("shared")
        assert state is not None
        assert state.messages[-1].content == "filed from B"
        humans = [m.content for m in state.messages if m.type == "human"]
        assert humans == ["from A", "from B"]
        assert state.state["log"] == ["from B"]
        history = await net.get_state_history("shared")
        assert all(h.messages[-1].content != "filed from A" for h in history if h.messages)


async def test_a_failed_release_does_not_undo_a_completed_run(
    fresh_dsn: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph_agents.checkpoints.postgres import PostgresConnections

    release = PostgresConnections.release

    async def release_on_a_dead_connection(self: PostgresConnections, lease: Any) -> None:
        await asyncio.to_thread(terminate_backends, fresh_dsn, pid=self._lock_conn.info.backend_pid)
        await asyncio.sleep(0.05)
        await release(self, lease)

    store = PostgresStateStore(fresh_dsn.replace("postgres@", "postgres:s3cret@"))
    net = network(store)
    async with net:
        monkeypatch.setattr(PostgresConnections, "release", release_on_a_dead_connection)
        with caplog.at_level(logging.WARNING, logger="graph_agents"):
            result = await net.run("secret question", thread_id="t")
        assert (result.stop_reason, result.output) == ("completed", "filed secret question")
        monkeypatch.setattr(PostgresConnections, "release", release)
        again = await net.run("next", thread_id="t")
        assert again.output == "filed next"
        exact_history(await values_of(net, "t"), ["secret question", "next"])
    logged = caplog.text
    assert "Could not release the lock" in logged
    assert "s3cret" not in logged
    assert "secret question" not in logged


async def test_a_store_that_cannot_be_reached_raises_a_store_error() -> None:
    net = network(PostgresStateStore("postgresql://ann:hunter2@127.0.0.1:1/nowhere"))
    with pytest.raises(StoreError) as error:
        await net.run("hi", thread_id="t")
    message = str(error.value)
    assert "hunter2" not in message
    assert "ann:***@127.0.0.1:1/nowhere" in message
    assert (error.value.operation, error.value.retry_safe) == ("connect", True)
    assert isinstance(error.value.__cause__, psycopg.OperationalError)
    with pytest.raises(StoreError):
        await net.get_state("t")
    # Runs that start together share one failed opening, and each is told.
    failures = await asyncio.gather(
        *(net.run("hi", thread_id=f"t{i}") for i in range(3)), return_exceptions=True
    )
    assert [type(f) for f in failures] == [StoreError] * 3


async def test_the_saver_takes_no_global_lock(fresh_dsn: str) -> None:
    # LangGraph's AsyncPostgresSaver serializes every operation on `saver.lock`
    # (langgraph issue 7259); ours must not, even if upstream keeps doing so.
    net = network(PostgresStateStore(fresh_dsn))
    async with net:
        await net.run("warm", thread_id="w")
        saver = net._runner._per_loop[asyncio.get_running_loop()].saver
        async with saver.lock:
            result = await asyncio.wait_for(net.run("locked out?", thread_id="t"), timeout=10)
        assert result.output == "filed locked out?"


async def test_a_run_id_makes_a_retry_return_the_recorded_result(fresh_dsn: str) -> None:
    net = network(PostgresStateStore(fresh_dsn))
    async with net:
        first = await net.run("pay rent", thread_id="t", run_id="req-1")
        calls = len(net.agents[0].model.calls) + len(net.agents[1].model.calls)  # type: ignore[union-attr]
        again = await net.run("pay rent", thread_id="t", run_id="req-1")
        assert (again.output, again.run_id, again.agent_path) == (
            first.output,
            "req-1",
            first.agent_path,
        )
        assert len(net.agents[0].model.calls) + len(net.agents[1].model.calls) == calls  # type: ignore[union-attr]
        exact_history(await values_of(net, "t"), ["pay rent"])
        other = await net.run("pay rent", thread_id="t", run_id="req-2")
        assert other.run_id == "req-2"
        exact_history(await values_of(net, "t"), ["pay rent", "pay rent"])


async def test_two_waiting_processes_never_both_run_a_thread(fresh_dsn: str) -> None:
    net = network(PostgresStateStore(fresh_dsn), delay=0.05)
    async with net:
        await net.run("first", thread_id="t")
        tries = await asyncio.gather(
            *(net.run("again", thread_id="t") for _ in range(3)), return_exceptions=True
        )
        assert sum(not isinstance(t, BaseException) for t in tries) == 1
        assert all(isinstance(t, ConcurrentRunError) for t in tries if isinstance(t, BaseException))
        exact_history(await values_of(net, "t"), ["first", "again"])


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
async def test_a_half_done_thread_resumes_without_repeating_its_tool(
    kind: str, fresh_dsn: str, tmp_path: Path
) -> None:
    import sqlite3

    from tests.faults import workload

    store: Any = (
        PostgresStateStore(fresh_dsn) if kind == "postgres" else SqliteStateStore(tmp_path / "s.db")
    )
    fault: Exception = psycopg.DataError("injected") if kind == "postgres" else sqlite3.DataError()
    notes: list[str] = []
    net = network(store)
    async with net:
        await net.run("warm", thread_id="warm")
        saver = net._runner._per_loop[asyncio.get_running_loop()].saver
        put = saver.aput

        async def fail_after_the_tool(config: Any, checkpoint: Any, *args: Any) -> Any:
            if len(workload.NOTES) == 2 and not notes:
                notes.append("failed")
                raise fault
            return await put(config, checkpoint, *args)

        saver.aput = fail_after_the_tool
        workload.NOTES.clear()
        workload.NOTES.append("warm")
        with pytest.raises(StoreError) as error:
            await net.run("q", thread_id="t")
        assert (error.value.written, error.value.retry_safe) == (True, False)
        state = await net.get_state("t")
        assert state is not None
        # The tool step's writes are stored, the checkpoint after it is not, so nothing
        # is listed as next although the run did not finish.
        assert state.next == []
        assert state.stop_reason is None
        result = await net.resume("t")
        assert (result.stop_reason, result.output) == ("completed", "filed q")
        assert workload.NOTES == ["warm", "q"]
        exact_history(await values_of(net, "t"), ["q"])


async def test_a_healthy_run_checks_its_lock_without_asking_the_server(
    fresh_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph_agents.checkpoints.postgres import PostgresConnections

    recoveries: list[object] = []
    recover = PostgresConnections.recover

    async def counted(self: PostgresConnections, lease: Any) -> bool:
        recoveries.append(lease)
        return await recover(self, lease)

    monkeypatch.setattr(PostgresConnections, "recover", counted)
    net = network(PostgresStateStore(fresh_dsn))
    async with net:
        for i in range(3):
            assert (await net.run(f"q{i}", thread_id="t")).output == f"filed q{i}"
    assert recoveries == []


def test_the_fence_lock_key_is_the_thread_key_split_in_two_int4_halves() -> None:
    from graph_agents.checkpoints.leases import halves, lock_key

    for thread in ("t", "shared", "a-much-longer-thread-id", *(str(i) for i in range(200))):
        key = lock_key(thread)
        hi, lo = halves(key)
        assert -(2**31) <= hi < 2**31
        assert -(2**31) <= lo < 2**31
        assert (hi << 32) | (lo & 0xFFFFFFFF) == key
    assert len({halves(lock_key(str(i))) for i in range(200)}) == 200
