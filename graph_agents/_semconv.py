"""The span and attribute names graph_agents uses, from the OpenTelemetry GenAI semantic
conventions as currently drafted (https://opentelemetry.io/docs/specs/semconv/gen-ai/).

The ``gen_ai.*`` constants of the ``opentelemetry-semantic-conventions`` package are all
deprecated (the GenAI conventions moved to their own repository), so the names are kept
here, in one place. ``gen_ai.provider.name`` replaces the older ``gen_ai.system``.
Names under ``graph_agents.`` are ours, for what the conventions do not cover.
"""

from __future__ import annotations

from typing import Final

OPERATION_NAME: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
AGENT_NAME: Final = "gen_ai.agent.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
RESPONSE_MODEL: Final = "gen_ai.response.model"
USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
TOOL_NAME: Final = "gen_ai.tool.name"
TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
TOOL_TYPE: Final = "gen_ai.tool.type"
TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
CONVERSATION_ID: Final = "gen_ai.conversation.id"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
ERROR_TYPE: Final = "error.type"

# gen_ai.operation.name values
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_CHAT: Final = "chat"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_STEP: Final = "step"
"""A workflow step's span (our own operation name: the conventions have none)."""
OPERATIONS: Final = (OP_INVOKE_WORKFLOW, OP_STEP, OP_INVOKE_AGENT, OP_CHAT, OP_EXECUTE_TOOL)

# graph_agents' own
RUN_ID: Final = "graph_agents.run.id"
RUN_KIND: Final = "graph_agents.run.kind"
RUN_RESUMED: Final = "graph_agents.run.resumed"
RUN_STOP_REASON: Final = "graph_agents.run.stop_reason"
LANE: Final = "graph_agents.lane"
STEP_ID: Final = "graph_agents.step.id"
STEP_KIND: Final = "graph_agents.step.kind"
STEP_BRANCH: Final = "graph_agents.step.branch"
HANDOFF_TO: Final = "graph_agents.handoff.to"
ROUTE_EVENT: Final = "graph_agents.route.decided"
ROUTE_AGENT: Final = "graph_agents.route.agent"
ROUTE_ROUTER: Final = "graph_agents.route.router"
ROUTE_SCORE: Final = "graph_agents.route.score"
ROUTE_LOW_CONFIDENCE: Final = "graph_agents.route.low_confidence"
ROUTE_FELL_BACK: Final = "graph_agents.route.fell_back"
