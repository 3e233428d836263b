"""The LangGraph compile layer: node functions, the state schema and the graph builder.

Nothing outside `graph_agents.nodes` and `graph_agents.checkpoints` imports LangGraph's
graph types; the public classes stay plain definitions.
"""

from .agent import CompiledAgent, ask_tool_name, handoff_tool_name, make_model_node
from .context import RunContext
from .graph import RESERVED_NODE_NAMES, build_graph, run_input
from .schema import GraphState
from .tools import make_tool_node

__all__ = [
    "RESERVED_NODE_NAMES",
    "CompiledAgent",
    "GraphState",
    "RunContext",
    "ask_tool_name",
    "build_graph",
    "handoff_tool_name",
    "make_model_node",
    "make_tool_node",
    "run_input",
]
