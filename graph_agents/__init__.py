"""graph_agents: multi-agent networks, routers, shared state and workflows on LangGraph.

```python
from graph_agents import Agent, create_network

network = create_network(agents=[Agent("Assistant", "Be brief.")], default_model="gpt-4o-mini")
result = network.run_sync("Hello!")
print(result.output)
```
"""

from .agent import Agent
from .approval import Approval, ApprovalRequest
from .events import Event, EventType
from .exceptions import (
    BackendError,
    ConcurrentRunError,
    ConfigurationError,
    GraphAgentsError,
    ModelProviderError,
    RoutingError,
    StoreError,
    ToolError,
    WorkflowError,
)
from .models import HanzoModelProvider, ModelProvider, OpenAIModelProvider, RetryPolicy
from .network import Network, create_network
from .result import RunResult, StopReason, ThreadState
from .routers import END, RouteContext, Router, RoutingDecision
from .state import (
    InMemoryStateStore,
    PostgresStateStore,
    SharedState,
    SqliteStateStore,
    StateView,
)
from .streaming import RunStream
from .tools import Tool, ToolContext, human_approval_tool, tool_from
from .workflow import Step, Workflow, WorkflowResult, create_workflow

__version__ = "0.1.0"

__all__ = [
    "END",
    "Agent",
    "Approval",
    "ApprovalRequest",
    "BackendError",
    "ConcurrentRunError",
    "ConfigurationError",
    "Event",
    "EventType",
    "GraphAgentsError",
    "HanzoModelProvider",
    "InMemoryStateStore",
    "ModelProvider",
    "ModelProviderError",
    "Network",
    "OpenAIModelProvider",
    "PostgresStateStore",
    "RetryPolicy",
    "RouteContext",
    "Router",
    "RoutingDecision",
    "RoutingError",
    "RunResult",
    "RunStream",
    "SharedState",
    "SqliteStateStore",
    "StateView",
    "Step",
    "StopReason",
    "StoreError",
    "ThreadState",
    "Tool",
    "ToolContext",
    "ToolError",
    "Workflow",
    "WorkflowError",
    "WorkflowResult",
    "__version__",
    "create_network",
    "create_workflow",
    "human_approval_tool",
    "tool_from",
]
