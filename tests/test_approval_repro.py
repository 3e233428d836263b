from __future__ import annotations

from graph_agents import Agent, create_network, tool_from
from graph_agents.testing import ScriptedModel, ToolCall

PAID: list[int] = []


async def transfer_money(amount: int, to: str) -> str:
    """Move money."""
    PAID.append(amount)
    return f"sent {amount} to {to}"


async def test_requires_approval_never_runs_the_tool_without_an_approval() -> None:
    model = ScriptedModel([ToolCall("transfer_money", {"amount": 500, "to": "eve"}), "Done."])
    agent = Agent("Banker", "Pay.", tools=[tool_from(transfer_money, requires_approval=True)])
    network = create_network(agents=[agent], default_model=model)
    result = await network.run("pay eve 500")
    assert PAID == []
    assert result.stop_reason == "interrupted"
