"""Pin the public names, so removing or renaming one is a deliberate change."""

from __future__ import annotations

import importlib

import pytest

EXPECTED = {
    "graph_agents": [
        "Approval",
        "ApprovalRequest",
        "StoreError",
        "ToolContext",
        "human_approval_tool",
        "END",
        "Agent",
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
        "ThreadState",
        "Tool",
        "ToolError",
        "Workflow",
        "WorkflowError",
        "WorkflowResult",
        "__version__",
        "create_network",
        "create_workflow",
        "tool_from",
    ],
    "graph_agents.exceptions": [
        "BackendError",
        "ConcurrentRunError",
        "ConfigurationError",
        "GraphAgentsError",
        "ModelProviderError",
        "RoutingError",
        "StoreError",
        "ToolError",
        "WorkflowError",
    ],
    "graph_agents.approval": ["Approval", "ApprovalRequest"],
    "graph_agents.state": [
        "InMemoryStateStore",
        "NetworkState",
        "PostgresStateStore",
        "SharedState",
        "SqliteStateStore",
        "check_storable",
        "StateOp",
        "StateView",
        "apply_state_ops",
    ],
    "graph_agents.tools": [
        "AGENT_TIMEOUT",
        "DEFAULT_TOOL_TIMEOUT",
        "ApprovalPolicy",
        "Tool",
        "ToolArgumentsError",
        "ToolCallError",
        "ToolContext",
        "create_composite_tool",
        "human_approval_tool",
        "tool_from",
    ],
    "graph_agents.models": [
        "DEFAULT_MODEL",
        "MODEL_ENV",
        "HanzoModelProvider",
        "ModelProvider",
        "OpenAIModelProvider",
        "RetryPolicy",
        "UnconfiguredModel",
        "describe_model",
        "model_probe",
        "resolve_model",
        "stream_chat",
    ],
    "graph_agents.testing": [
        "HTTPFailure",
        "HashEmbeddings",
        "ModelCall",
        "OpenAIStubServer",
        "ScriptExhaustedError",
        "ScriptedModel",
        "ScriptedResponse",
        "StubItem",
        "StubRequest",
        "ToolCall",
        "hash_embedding",
    ],
    "graph_agents.events": [
        "EVENT_TYPES",
        "Event",
        "EventType",
        "StreamCallback",
        "event_json_schema",
    ],
    "graph_agents.streaming": ["RunStream"],
    "graph_agents.memory": [
        "Memory",
        "MemoryKind",
        "MemoryManager",
        "MemoryScope",
        "RetrievalWeights",
        "VectorMemoryStore",
    ],
    "graph_agents.memory.store": [
        "StoredMemory",
        "VectorMemoryStore",
        "VectorsOnly",
        "check_collection_name",
        "rows",
    ],
    "graph_agents.memory.manager": [
        "Memory",
        "MemoryKind",
        "MemoryManager",
        "MemoryScope",
        "RetrievalWeights",
    ],
    "graph_agents.memory.records": [
        "KINDS",
        "SCOPES",
        "Memory",
        "MemoryKind",
        "MemoryScope",
        "RetrievalWeights",
        "memory_from_row",
        "rank",
        "retention",
    ],
    "graph_agents.memory.reflection": [
        "draw_insights",
        "heuristic_importance",
        "rate_importance",
    ],
    "graph_agents.cli": ["load_target", "main"],
    "graph_agents.tracing": [
        "CAPTURE_CONTENT_ENV",
        "MAX_RECORDS",
        "TraceRecord",
        "TraceRecorder",
        "capture_content_from_env",
        "configure_tracing",
        "recorder_for",
    ],
    "graph_agents.drawing": ["Diagram", "network_diagram", "save_graph", "workflow_diagram"],
    "graph_agents.server": [
        "DEFAULT_MAX_BODY_BYTES",
        "TOKEN_ENV",
        "create_app",
        "is_loopback",
        "serve",
    ],
    "graph_agents.server.app": ["DEFAULT_MAX_BODY_BYTES", "create_app"],
    "graph_agents.server.security": ["BodyLimit", "bearer_check"],
    "graph_agents.server.agui": ["RESPONSE_SCHEMA", "AGUITranslator", "decisions_from_resume"],
    "graph_agents.server.runs": [
        "MAX_EVENTS",
        "MAX_RUNS",
        "RunLog",
        "RunRegistry",
        "Target",
        "thread_json",
    ],
    "graph_agents.result": [
        "OutputT",
        "RunResult",
        "StopReason",
        "ThreadState",
        "WorkflowResult",
        "completed_event",
        "result_from_values",
    ],
    "graph_agents.workflow": ["Step", "Workflow", "WorkflowResult", "create_workflow"],
    "graph_agents.steps": [
        "AgentStep",
        "ConditionalStep",
        "LoopStep",
        "ParallelStep",
        "Step",
        "TransformStep",
        "template_keys",
    ],
    "graph_agents.agent": ["COMPUTE_BACKENDS", "Agent"],
    "graph_agents.routers": [
        "END",
        "AdaptReport",
        "FitReport",
        "FunctionRouter",
        "LLMRouter",
        "LoadBalancingRouter",
        "RequestRouterFunction",
        "RouteContext",
        "Router",
        "RouterLike",
        "RouterSetup",
        "RoutingDecision",
        "RoutingStrategy",
        "RuleBasedRouter",
        "SemanticRouter",
        "TurnRouter",
        "TurnRouterFunction",
        "as_router",
    ],
}


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_exported_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(EXPECTED[module_name])
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is exported but missing"


def test_public_modules_import_no_langgraph_graph_types() -> None:
    import ast
    from pathlib import Path

    root = Path(importlib.import_module("graph_agents").__file__ or "").parent
    for name in (
        "agent.py",
        "approval.py",
        "tools.py",
        "state.py",
        "models.py",
        "events.py",
        "result.py",
    ):
        tree = ast.parse((root / name).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not any(m.startswith("langgraph") for m in imported), (name, imported)
