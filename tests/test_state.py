from __future__ import annotations

import pytest

from graph_agents import SharedState, StateView
from graph_agents.state import NetworkState, apply_state_ops


def test_ops_apply_in_order_without_mutating() -> None:
    current = {"a": 1, "items": [1]}
    result = apply_state_ops(
        current,
        [
            ("set", "b", 2),
            ("append", "items", 2),
            ("append", "new", "x"),
            ("delete", "a", None),
        ],
    )
    assert result == {"b": 2, "items": [1, 2], "new": ["x"]}
    assert current == {"a": 1, "items": [1]}


def test_append_to_a_non_list_names_the_key() -> None:
    with pytest.raises(TypeError, match=r"Cannot append to state key 'a': it holds a int"):
        apply_state_ops({"a": 1}, [("append", "a", 2)])


async def test_shared_state_reads_its_own_writes() -> None:
    state = SharedState({"x": 1})
    await state.set("y", 2)
    await state.update({"z": 3, "x": 10})
    await state.delete("y")
    assert await state.get("x") == 10
    assert await state.get("y", "gone") == "gone"
    assert await state.to_dict() == {"x": 10, "z": 3}
    assert state._take_ops() == [
        ("set", "y", 2),
        ("set", "z", 3),
        ("set", "x", 10),
        ("delete", "y", None),
    ]


def test_state_view_is_read_only() -> None:
    view = StateView({"score": 7})
    assert view.get("score") == 7
    assert view.get("missing") is None
    assert dict(view) == {"score": 7}
    with pytest.raises(TypeError):
        view["score"] = 1  # type: ignore[index]


def test_network_state_seeds() -> None:
    state = NetworkState()
    state.set("mode", "research")
    assert state.get("mode") == "research"
    assert state.to_dict() == {"mode": "research"}
    with pytest.raises(TypeError, match="State keys must be strings"):
        state.set(1, "x")  # type: ignore[arg-type]


async def test_state_keys_must_be_strings() -> None:
    state = SharedState({})
    with pytest.raises(TypeError) as caught:
        await state.set(1, "x")  # type: ignore[arg-type]
    assert str(caught.value) == "State keys must be strings, got 1."


def test_the_turn_tracker_releases_each_dispatched_turn_once() -> None:
    from graph_agents.nodes.context import TurnTracker
    from graph_agents.routers import LoadBalancingRouter

    router = LoadBalancingRouter(health_check_interval=0)
    released: list[str] = []
    router.released = lambda agent, *, failed: released.append(agent)  # type: ignore[method-assign]
    tracker = TurnTracker(router)
    tracker.dispatch("A")
    tracker.dispatch("A")
    for _ in range(3):
        tracker.finish("A")
    tracker.finish("B")  # a turn the router never dispatched
    assert released == ["A", "A"]
    tracker.release_open(failed=True)
    assert released == ["A", "A"]
