"""The most common script, ``asyncio.run(main())`` around a run on a durable store, exits
silently: per-loop connections are closed when their loop ends, even without aclose()."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import postgres_dsn

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from graph_agents import (
        Agent, PostgresStateStore, SqliteStateStore, Step, create_network, create_workflow,
    )
    from graph_agents.routers import LoadBalancingRouter
    from graph_agents.testing import ScriptedModel

    def store():
        kind, where = sys.argv[1], sys.argv[2]
        return SqliteStateStore(where) if kind == "sqlite" else PostgresStateStore(where)

    async def main():
        network = create_network(
            agents=[Agent("A", model=ScriptedModel(["network answer"]))],
            router=LoadBalancingRouter(health_check_interval=5),
            state_store=store(),
        )
        result = await network.run("hello")
        workflow = create_workflow(
            "w", [Agent("A", model=ScriptedModel(["workflow answer"]))],
            [Step.agent("a", "Do it")], state_store=store(),
        )
        done = await workflow.run()
        print(result.output, "|", done.output)

    asyncio.run(main())
    asyncio.run(main())  # a second loop opens and closes its own connections
    """
)


def run_script(tmp_path: Path, kind: str, where: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), kind, where],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_asyncio_run_script_exits_without_a_word_on_stderr(tmp_path: Path, kind: str) -> None:
    where = str(tmp_path / "state.sqlite") if kind == "sqlite" else postgres_dsn()
    done = run_script(tmp_path, kind, where)
    assert done.stderr == ""
    assert done.returncode == 0
    assert done.stdout == "network answer | workflow answer\n" * 2


async def test_aclose_closes_and_the_next_run_reopens(tmp_path: Path) -> None:
    from graph_agents import Agent, SqliteStateStore, create_network
    from graph_agents.testing import ScriptedModel

    network = create_network(
        agents=[Agent("A", model=ScriptedModel(["one", "two"]))],
        state_store=SqliteStateStore(tmp_path / "s.sqlite"),
    )
    async with network:
        assert (await network.run("a", thread_id="t")).output == "one"
        opened = network._runner._per_loop  # the per-loop connections
        assert len(opened) == 1
    assert opened == {}
    assert (await network.run("b", thread_id="t")).output == "two"
    state = await network.get_state("t")
    assert state is not None
    assert [m.content for m in state.messages] == ["a", "one", "b", "two"]
    await network.aclose()
    assert opened == {}


FAILS_RIGHT_AFTER_OPENING = textwrap.dedent(
    """
    import asyncio, sys
    from graph_agents import Agent, ConfigurationError, SqliteStateStore, create_network
    from graph_agents.testing import ScriptedModel

    async def main():
        network = create_network(
            agents=[Agent("A", model=ScriptedModel(["x"]))],
            state_store=SqliteStateStore(sys.argv[1]),
        )
        async with network:
            try:
                await network.get_state("")  # fails as soon as the store is open
            except ConfigurationError:
                print("refused")

    asyncio.run(main())
    """
)


def test_closing_right_after_the_store_opened_is_silent(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(FAILS_RIGHT_AFTER_OPENING)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "s.sqlite")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    assert (done.stdout, done.stderr, done.returncode) == ("refused\n", "", 0)
