"""The LangGraph compile layer: node functions, the state schema and the graph builder.

Nothing outside `graph_agents.nodes` and `graph_agents.checkpoints` imports LangGraph's
graph types; the public classes stay plain definitions.
"""

from .agent import CompiledAgent, make_model_node, make_tool_node
from .context import RunContext
from .graph import build_graph, run_input
from .schema import GraphState

__all__ = [
    "CompiledAgent",
    "GraphState",
    "RunContext",
    "build_graph",
    "make_model_node",
    "make_tool_node",
    "run_input",
]
