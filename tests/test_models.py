from __future__ import annotations

import socket
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from graph_agents import (
    Agent,
    ConfigurationError,
    HanzoModelProvider,
    ModelProviderError,
    OpenAIModelProvider,
    RetryPolicy,
    create_network,
)
from graph_agents.models import resolve_model, stream_chat
from graph_agents.testing import HTTPFailure, OpenAIStubServer, ScriptedModel

FAST = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_streams_tokens_in_order(stub: OpenAIStubServer) -> None:
    stub.add("Hello brave new world")
    model = OpenAIModelProvider(base_url=stub.base_url, api_key="k").chat_model("gpt-test")
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    message = await stream_chat(model, [HumanMessage("hi")], base_model=model, on_delta=on_delta)
    assert deltas == ["Hello", " brave", " new", " world"]
    assert message.text == "Hello brave new world"
    assert stub.chat_requests[0]["stream"] is True
    assert stub.chat_requests[0]["stream_options"] == {"include_usage": True}
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] == 4


@pytest.mark.parametrize("statuses", [(429, 503), (408, 409), (500, 502)])
async def test_transient_failures_are_retried(
    stub: OpenAIStubServer, statuses: tuple[int, int]
) -> None:
    stub.add(*(HTTPFailure(status, "try again") for status in statuses), "recovered")
    model = OpenAIModelProvider(base_url=stub.base_url, api_key="k").chat_model("gpt-test")
    message = await stream_chat(model, [HumanMessage("hi")], base_model=model, retry=FAST)
    assert message.text == "recovered"
    assert len(stub.chat_requests) == 3


async def test_retries_give_up_with_a_clear_error(stub: OpenAIStubServer) -> None:
    stub.add(HTTPFailure(500), HTTPFailure(500), HTTPFailure(500), "never")
    model = OpenAIModelProvider(base_url=stub.base_url, api_key="k").chat_model("gpt-test")
    with pytest.raises(ModelProviderError) as info:
        await stream_chat(model, [HumanMessage("hi")], base_model=model, retry=FAST)
    assert str(info.value) == (
        f"Model 'gpt-test' at {stub.base_url} failed with HTTP 500 after 3 attempts: stub failure."
    )
    assert len(stub.chat_requests) == 3


async def test_auth_failure_is_not_retried() -> None:
    with OpenAIStubServer(["unused"], api_key="right") as stub:
        model = OpenAIModelProvider(base_url=stub.base_url, api_key="wrong").chat_model("gpt-x")
        with pytest.raises(ModelProviderError) as info:
            await stream_chat(model, [HumanMessage("hi")], base_model=model, retry=FAST)
        assert str(info.value) == (
            f"Model 'gpt-x' at {stub.base_url} rejected the credentials (HTTP 401). "
            "Check OPENAI_API_KEY or the provider's api_key."
        )
        assert info.value.model == "gpt-x"
        assert info.value.endpoint == stub.base_url
        assert len(stub.chat_requests) == 1


async def test_unknown_model() -> None:
    with OpenAIStubServer(models=["gpt-real"]) as stub:
        model = HanzoModelProvider(stub.base_url).chat_model("gpt-imaginary")
        with pytest.raises(ModelProviderError) as info:
            await stream_chat(model, [HumanMessage("hi")], base_model=model, retry=FAST)
        assert str(info.value) == (
            f"Model 'gpt-imaginary' at {stub.base_url} does not know this model (HTTP 404). "
            "Check the model name, and that base_url ends with the API prefix (often /v1)."
        )


async def test_unreachable_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = OpenAIModelProvider(base_url=url, api_key="k", timeout=2).chat_model("gpt-x")
    with pytest.raises(ModelProviderError) as info:
        await stream_chat(model, [HumanMessage("hi")], base_model=model, retry=FAST)
    message = str(info.value)
    assert message.startswith(f"Model 'gpt-x' at {url} is unreachable after 3 attempts (")
    assert message.endswith("Check OPENAI_BASE_URL / base_url and that the server is running.")
    assert info.value.endpoint == url


def test_provider_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    model = OpenAIModelProvider().chat_model("gpt-env")
    assert model.model_name == "gpt-env"  # type: ignore[attr-defined]
    assert model.openai_api_base == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    assert model.openai_api_key.get_secret_value() == "sk-env"  # type: ignore[attr-defined]


async def test_no_endpoint_fails_at_run_with_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("GRAPH_AGENTS_MODEL", raising=False)
    network = create_network(agents=[Agent("A", "Answer.")])  # building needs no credentials
    with pytest.raises(ModelProviderError) as caught:
        await network.run("hello")
    assert str(caught.value) == (
        "Agent 'A': No endpoint is configured for model 'gpt-4o-mini': no API key for "
        "https://api.openai.com/v1. Set OPENAI_API_KEY (and OPENAI_BASE_URL for another "
        "OpenAI-compatible server), or pass create_network(model_provider="
        "OpenAIModelProvider(api_key=..., base_url=...)) or a BaseChatModel as Agent(model=...)."
    )
    assert caught.value.model == "gpt-4o-mini"


def test_resolve_model_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("GRAPH_AGENTS_MODEL", raising=False)
    mine, default = ScriptedModel(), ScriptedModel()

    def name(model: str | ScriptedModel | None, **kw: Any) -> str:
        resolved = resolve_model(model, owner="A", **{"default": None, "provider": None, **kw})
        return str(getattr(resolved, "model_name", ""))

    assert resolve_model(mine, default=default, provider=None, owner="A") is mine
    assert resolve_model(None, default=default, provider=None, owner="A") is default
    assert name("agent-model", default="net-model") == "agent-model"
    assert name(None, default="net-model") == "net-model"
    provider = OpenAIModelProvider(default_model="provider-model")
    assert name(None, default="net-model", provider=provider) == "net-model"
    assert name(None, provider=provider) == "provider-model"
    hanzo = HanzoModelProvider("http://127.0.0.1:9/v1", default_model="hanzo-model")
    assert name(None, provider=hanzo) == "hanzo-model"
    monkeypatch.setenv("GRAPH_AGENTS_MODEL", "env-model")
    assert name(None, provider=provider) == "provider-model"
    assert name(None) == "env-model"
    monkeypatch.delenv("GRAPH_AGENTS_MODEL")
    assert name(None) == "gpt-4o-mini"
    with pytest.raises(ConfigurationError, match=r"Agent 'A': model 42 is neither a model name"):
        resolve_model(42, default=None, provider=None, owner="A")  # type: ignore[arg-type]


class _Flaky:
    """A model whose stream fails, with a transient error, after ``tokens_first`` tokens."""

    def __init__(self, tokens_first: int, failures: int):
        self.tokens_first = tokens_first
        self.failures = failures
        self.attempts = 0

    async def astream(self, messages: Any) -> Any:
        from langchain_core.messages import AIMessageChunk

        self.attempts += 1
        if self.attempts <= self.failures:
            for _ in range(self.tokens_first):
                yield AIMessageChunk(content="Hel")
            raise TimeoutError("connection reset")
        yield AIMessageChunk(content="Hello")
        yield AIMessageChunk(content=" world")


async def _stream(model: Any, deltas: list[str]) -> Any:
    """``stream_chat`` on a duck-typed model, collecting the text deltas."""

    async def on_delta(text: str) -> None:
        deltas.append(text)

    return await stream_chat(
        model,
        [HumanMessage("hi")],
        base_model=ScriptedModel(model_name="m"),
        on_delta=on_delta,
        retry=FAST,
    )


async def test_a_stream_that_broke_after_its_first_token_is_not_retried() -> None:
    flaky = _Flaky(tokens_first=1, failures=1)
    deltas: list[str] = []
    with pytest.raises(ModelProviderError) as caught:
        await _stream(flaky, deltas)
    assert flaky.attempts == 1
    assert deltas == ["Hel"]
    assert str(caught.value) == "Model 'm' failed: TimeoutError: connection reset."


async def test_a_stream_that_failed_before_any_token_is_retried() -> None:
    flaky = _Flaky(tokens_first=0, failures=2)
    deltas: list[str] = []
    message = await _stream(flaky, deltas)
    assert flaky.attempts == 3
    assert message.text == "Hello world"
    assert deltas == ["Hello", " world"]
    exhausted = _Flaky(tokens_first=0, failures=5)
    with pytest.raises(ModelProviderError, match=r"^Model 'm' failed after 3 attempts: "):
        await _stream(exhausted, [])
    assert exhausted.attempts == 3


def test_retry_delays_grow_and_stay_within_jittered_bounds() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=3.0, backoff=2.0)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays))
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed


async def test_items_in_a_stream_that_are_not_message_chunks_are_skipped() -> None:
    from langchain_core.messages import AIMessageChunk

    class Noisy:
        async def astream(self, messages: Any) -> Any:
            yield AIMessageChunk(content="Hello")
            yield "keep-alive"
            yield AIMessageChunk(content=" world")

    message = await stream_chat(
        Noisy(),  # type: ignore[arg-type]
        [HumanMessage("hi")],
        base_model=ScriptedModel(model_name="m"),
        retry=FAST,
    )
    assert message.text == "Hello world"


def test_retry_policy_is_immutable_and_documented_defaults_hold() -> None:
    import dataclasses

    from graph_agents.routers import LLMRouter

    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 9  # type: ignore[misc]
    assert (policy.max_attempts, policy.initial_delay, policy.max_delay, policy.backoff) == (
        4,
        0.5,
        8.0,
        2.0,
    )
    assert LLMRouter(ScriptedModel()).max_history == 20
