"""Human approval: human_approval_tool, requires_approval, resume by id, and no repeats.

Every test counts model calls and tool-body runs: a resumed run must never repeat a
completed model call or a completed tool call.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from graph_agents import Agent, ConfigurationError, Event, create_network, tool_from
from graph_agents.approval import Approval
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall
from graph_agents.tools import human_approval_tool


class Bank:
    """A payment tool that records every run of its body."""

    def __init__(self) -> None:
        self.paid: list[tuple[int, str]] = []

    def tool(self, requires_approval: Any = True) -> Any:
        async def transfer_money(amount: int, to: str) -> str:
            """Move money to someone.

            Args:
                amount: Whole euros.
                to: The payee.
            """
            self.paid.append((amount, to))
            return f"sent {amount} to {to}"

        return tool_from(transfer_money, requires_approval=requires_approval)


def last_tool_message(model: ScriptedModel) -> ToolMessage:
    message = model.calls[-1].messages[-1]
    assert isinstance(message, ToolMessage)
    return message


def banker(bank: Bank, model: ScriptedModel, state_store: object, **tool: Any) -> Any:
    agent = Agent("Banker", "Pay people.", tools=[bank.tool(**tool)], model=model)
    return create_network(agents=[agent], state_store=state_store)  # type: ignore[arg-type]


def pay(amount: int, to: str = "eve", call_id: str = "c1") -> ToolCall:
    return ToolCall("transfer_money", {"amount": amount, "to": to}, id=call_id)


async def test_requires_approval_never_runs_without_one(state_store: object) -> None:
    bank = Bank()
    model = ScriptedModel([pay(500), "Done."])
    network = banker(bank, model, state_store)
    async with network:
        result = await network.run("pay eve 500")
        assert (result.stop_reason, bank.paid, len(model.calls)) == ("interrupted", [], 1)
        # Resuming without an answer neither runs the tool nor moves on.
        with pytest.raises(ConfigurationError) as error:
            await network.resume(result.thread_id)
        assert str(error.value) == (
            f"Thread {result.thread_id!r} waits for approval: "
            f"{result.interrupts[0].id!r} (Banker: transfer_money). Answer with "
            "resume(thread_id, approve=True | False, feedback=...)."
        )
        # A new run on the waiting thread does not run it either.
        state = await network.get_state(result.thread_id)
    assert bank.paid == []
    assert state is not None
    assert (state.stop_reason, state.next) == ("interrupted", ["Banker tools"])
    assert [r.id for r in state.interrupts] == [r.id for r in result.interrupts]


async def test_approve_runs_the_tool_once_and_the_agent_carries_on(state_store: object) -> None:
    bank = Bank()
    model = ScriptedModel([pay(500), "Paid eve."])
    network = banker(bank, model, state_store)
    events: list[Event] = []
    async with network:
        paused = await network.run("pay eve 500", stream_callback=events.append)
        [request] = paused.interrupts
        assert request.to_dict() == {
            "id": request.id,
            "kind": "tool",
            "agent": "Banker",
            "action": "transfer_money",
            "details": {"amount": 500, "to": "eve"},
            "tool": "transfer_money",
            "tool_call_id": "c1",
            "arguments": {"amount": 500, "to": "eve"},
            "thread_id": paused.thread_id,
            "step": None,
            "interrupt_id": request.interrupt_id,
        }
        assert request.id.startswith("apr_")
        assert [(e.type, e.agent) for e in events] == [
            ("run.started", None),
            ("agent.started", "Banker"),
            ("message.completed", "Banker"),
            ("approval.requested", "Banker"),
            ("run.completed", None),
        ]
        assert events[3].data == request.to_dict()
        assert (events[4].data["stop_reason"], events[4].data["interrupts"]) == (
            "interrupted",
            [request.id],
        )
        events.clear()
        result = await network.resume(paused.thread_id, approve=True, stream_callback=events.append)
        assert [e.type for e in events] == [
            "run.started",
            "tool.started",
            "tool.completed",
            "message.delta",
            "message.delta",
            "message.completed",
            "agent.completed",
            "run.completed",
        ]
        assert events[0].data["resumed"] is True
    assert (result.stop_reason, result.output) == ("completed", "Paid eve.")
    assert bank.paid == [(500, "eve")]
    assert len(model.calls) == 2
    assert last_tool_message(model).content == "sent 500 to eve"
    assert result.interrupts == []


async def test_reject_reaches_the_model_with_the_feedback(state_store: object) -> None:
    bank = Bank()
    model = ScriptedModel([pay(500), "Understood, I will not pay."])
    network = banker(bank, model, state_store)
    async with network:
        paused = await network.run("pay eve 500")
        result = await network.resume(
            paused.thread_id, approve=False, feedback="Eve was paid yesterday."
        )
    assert bank.paid == []
    assert result.output == "Understood, I will not pay."
    message = last_tool_message(model)
    assert message.content == (
        "A human rejected this call to 'transfer_money', so it did not run. Their feedback: "
        "Eve was paid yesterday. Do not retry it unchanged."
    )
    assert result.tool_errors == []


async def test_edited_arguments_run_and_the_model_is_told(state_store: object) -> None:
    bank = Bank()
    model = ScriptedModel([pay(500), "Paid less."])
    network = banker(bank, model, state_store)
    async with network:
        paused = await network.run("pay eve 500")
        await network.resume(paused.thread_id, approve=True, edits={"amount": 50})
    assert bank.paid == [(50, "eve")]
    assert last_tool_message(model).content == (
        "A human approved this call with changed arguments (amount: 500 -> 50).\nsent 50 to eve"
    )


async def test_a_predicate_pauses_only_above_the_limit(state_store: object) -> None:
    bank = Bank()
    model = ScriptedModel([pay(80, call_id="small"), pay(150, call_id="big"), "Both paid."])
    network = banker(bank, model, state_store, requires_approval=lambda a: a["amount"] > 100)
    async with network:
        paused = await network.run("pay eve 80 then 150")
        assert bank.paid == [(80, "eve")]
        assert [r.tool_call_id for r in paused.interrupts] == ["big"]
        result = await network.resume(paused.thread_id, approve=True)
    assert bank.paid == [(80, "eve"), (150, "eve")]
    assert (result.output, len(model.calls)) == ("Both paid.", 3)


async def test_a_raising_predicate_asks_for_approval() -> None:
    def broken(arguments: dict[str, Any]) -> bool:
        raise KeyError("currency")

    bank = Bank()
    network = banker(bank, ScriptedModel([pay(1), "ok"]), None, requires_approval=broken)
    result = await network.run("pay")
    assert (result.stop_reason, bank.paid) == ("interrupted", [])


async def test_arguments_a_predicate_cannot_read_go_back_to_the_model() -> None:
    asked: list[dict[str, Any]] = []

    def limit(arguments: dict[str, Any]) -> bool:
        asked.append(arguments)
        return True

    bank = Bank()
    model = ScriptedModel([ToolCall("transfer_money", {"amount": "lots"}), "Sorry."])
    network = banker(bank, model, None, requires_approval=limit)
    result = await network.run("pay")
    assert (result.stop_reason, result.output, bank.paid, asked) == ("completed", "Sorry.", [], [])
    assert "amount" in str(last_tool_message(model).content)


async def test_human_approval_tool(state_store: object) -> None:
    model = ScriptedModel(
        [
            ToolCall("human_approval_tool", {"action": "delete 3 branches", "details": "a, b, c"}),
            "Deleted them.",
        ]
    )
    agent = Agent("Assistant", "Ask before changes.", tools=[human_approval_tool], model=model)
    network = create_network(agents=[agent], state_store=state_store)  # type: ignore[arg-type]
    async with network:
        paused = await network.run("tidy the repo")
        [request] = paused.interrupts
        assert (request.kind, request.action, request.details) == (
            "human_approval",
            "delete 3 branches",
            "a, b, c",
        )
        result = await network.resume(paused.thread_id, approve=True, feedback="keep main")
    assert result.output == "Deleted them."
    assert last_tool_message(model).content == (
        "A human approved 'delete 3 branches'. Their feedback: keep main. Go ahead."
    )
    assert len(model.calls) == 2


async def test_human_approval_tool_rejected() -> None:
    model = ScriptedModel([ToolCall("human_approval_tool", {"action": "drop the table"}), "OK."])
    network = create_network(agents=[Agent("A", tools=[human_approval_tool], model=model)])
    paused = await network.run("clean up")
    await network.resume(paused.thread_id, approve=False)
    assert last_tool_message(model).content == "A human rejected 'drop the table'. Do not do it."


def parallel_payers(bank: Bank, state_store: object) -> tuple[Any, dict[str, ScriptedModel]]:
    models = {
        "Boss": ScriptedModel(
            [
                ScriptedResponse(
                    tool_calls=[
                        ToolCall("ask_payera", {"task": "pay ann 10"}, id="ask-a"),
                        ToolCall("ask_payerb", {"task": "pay bob 20"}, id="ask-b"),
                    ]
                ),
                "Everyone is paid.",
            ]
        ),
        "PayerA": ScriptedModel([pay(10, "ann", "pa"), "Ann paid."]),
        "PayerB": ScriptedModel([pay(20, "bob", "pb"), "Bob paid."]),
    }
    agents = [Agent("Boss", "Delegate.", model=models["Boss"])] + [
        Agent(name, "Pay.", model=models[name], tools=[bank.tool()])
        for name in ("PayerA", "PayerB")
    ]
    return create_network(agents=agents, state_store=state_store), models  # type: ignore[arg-type]


def counts(models: dict[str, ScriptedModel]) -> dict[str, int]:
    return {name: len(model.calls) for name, model in models.items()}


async def test_parallel_approvals_resume_by_id_one_at_a_time(state_store: object) -> None:
    bank = Bank()
    network, models = parallel_payers(bank, state_store)
    async with network:
        paused = await network.run("pay everyone")
        assert paused.stop_reason == "interrupted"
        by_agent = {r.agent: r for r in paused.interrupts}
        assert sorted(by_agent) == ["PayerA", "PayerB"]
        assert counts(models) == {"Boss": 1, "PayerA": 1, "PayerB": 1}

        with pytest.raises(ConfigurationError) as error:
            await network.resume(paused.thread_id, approve=True)
        assert "waits for 2 approvals" in str(error.value)
        assert by_agent["PayerA"].id in str(error.value)
        with pytest.raises(ConfigurationError, match="no pending approval request 'apr_nope'"):
            await network.resume(paused.thread_id, decisions={"apr_nope": Approval()})
        with pytest.raises(ConfigurationError) as error:
            await network.resume(
                paused.thread_id,
                decisions={"apr_x": Approval(), "apr_y": Approval(), "apr_z": Approval()},
            )
        assert "no pending approval request 'apr_x' (and 2 more); pending: " in str(error.value)
        assert bank.paid == []

        half = await network.resume(
            paused.thread_id, decisions={by_agent["PayerA"].id: Approval(approve=True)}
        )
        assert half.stop_reason == "interrupted"
        assert [r.id for r in half.interrupts] == [by_agent["PayerB"].id]
        assert bank.paid == [(10, "ann")]
        assert counts(models) == {"Boss": 1, "PayerA": 2, "PayerB": 1}

        done = await network.resume(
            paused.thread_id, decisions={by_agent["PayerB"].id: Approval(approve=True)}
        )
    assert done.output == "Everyone is paid."
    # The answered branch did not run again when the other was answered.
    assert bank.paid == [(10, "ann"), (20, "bob")]
    assert counts(models) == {"Boss": 2, "PayerA": 2, "PayerB": 2}


async def test_decisions_answer_several_at_once_and_reject_one(state_store: object) -> None:
    bank = Bank()
    network, models = parallel_payers(bank, state_store)
    async with network:
        paused = await network.run("pay everyone")
        by_agent = {r.agent: r for r in paused.interrupts}
        done = await network.resume(
            paused.thread_id,
            decisions={
                by_agent["PayerA"].id: True,
                by_agent["PayerB"].id: Approval(approve=False, feedback="Bob left."),
            },
        )
    assert done.stop_reason == "completed"
    assert bank.paid == [(10, "ann")]
    assert counts(models) == {"Boss": 2, "PayerA": 2, "PayerB": 2}


async def test_several_calls_in_one_message_wait_together() -> None:
    bank = Bank()
    model = ScriptedModel(
        [ScriptedResponse(tool_calls=[pay(1, "ann", "x"), pay(2, "bob", "y")]), "Both done."]
    )
    network = banker(bank, model, None)
    paused = await network.run("pay two")
    first, second = paused.interrupts
    assert (first.tool_call_id, second.tool_call_id) == ("x", "y")
    # Answering one of two calls of the same message runs nothing yet.
    half = await network.resume(paused.thread_id, decisions={first.id: True})
    assert [r.id for r in half.interrupts] == [second.id]
    assert bank.paid == []
    done = await network.resume(paused.thread_id, decisions={second.id: False})
    assert done.output == "Both done."
    assert bank.paid == [(1, "ann")]
    assert len(model.calls) == 2


async def test_resume_errors_name_the_value_and_the_fix() -> None:
    bank = Bank()
    network = banker(bank, ScriptedModel([pay(5), "ok", "again"]), None)
    paused = await network.run("pay")
    request = paused.interrupts[0]
    with pytest.raises(ConfigurationError) as error:
        await network.resume(paused.thread_id, approve=False, edits={"amount": 1})
    assert str(error.value) == (
        f"Approval request {request.id!r}: edits apply to an approved tool call, not to a "
        "rejection; drop edits=... or approve the call."
    )
    with pytest.raises(ConfigurationError) as error:
        await network.resume(paused.thread_id, approve=True, edits={"currency": "EUR"})
    assert str(error.value) == (
        f"Approval request {request.id!r}: tool 'transfer_money' has no argument(s) "
        "['currency']; its arguments are ['amount', 'to']."
    )
    with pytest.raises(ConfigurationError, match="the edited arguments do not fit"):
        await network.resume(paused.thread_id, approve=True, edits={"amount": "lots"})
    with pytest.raises(ConfigurationError, match="either decisions="):
        await network.resume(paused.thread_id, approve=True, decisions={request.id: True})
    with pytest.raises(ConfigurationError, match="needs approve=True or approve=False too"):
        await network.resume(paused.thread_id, feedback="hm")
    assert bank.paid == []
    await network.resume(paused.thread_id, approve=True)
    with pytest.raises(ConfigurationError) as error:
        await network.resume(paused.thread_id, approve=True)
    assert str(error.value) == (
        f"Thread {paused.thread_id!r} does not wait for an approval; call "
        f"resume({paused.thread_id!r}) without approve= to continue a stopped run."
    )
    assert bank.paid == [(5, "eve")]


def test_requires_approval_must_be_a_bool_or_a_predicate() -> None:
    async def f(x: int) -> int:
        """F."""
        return x

    with pytest.raises(ConfigurationError) as error:
        tool_from(f, requires_approval="yes")  # type: ignore[arg-type]
    assert str(error.value) == (
        "tool_from: requires_approval='yes' is neither True/False nor a predicate; pass "
        "True, or a function of the arguments such as lambda args: args['amount'] > 100."
    )
    assert tool_from(tool_from(f), requires_approval=True).requires_approval is True
    with pytest.raises(ConfigurationError, match="human_approval_tool always waits"):
        tool_from(human_approval_tool, requires_approval=False)
