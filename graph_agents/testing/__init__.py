"""Test doubles for graph_agents users and for this project's own tests.

- `ScriptedModel`: a LangChain chat model that replays scripted replies, streamed token by
  token, and records every call.
- `OpenAIStubServer`: a real OpenAI-compatible HTTP server on loopback, so the real
  ``langchain-openai`` client can be exercised end to end without a network.
- `HashEmbeddings`: deterministic offline embeddings (memory and router tests).
"""

from .embeddings import HashEmbeddings
from .scripted import ModelCall, ScriptedModel, ScriptedResponse, ScriptExhaustedError, ToolCall
from .stub_server import HTTPFailure, OpenAIStubServer, StubItem, StubRequest, hash_embedding

__all__ = [
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
]
