"""The web view in a real browser: Debian's headless chromium, driven by Playwright
(no browser download). A person's path through the page: start a run, watch tokens
arrive in their lanes, approve the booking, see the run complete."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph_agents.server import create_app

from .test_examples import load
from .web import running

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GRAPH_AGENTS_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(
            f"No chromium at {CHROMIUM}: install Debian's package (apt-get install chromium), "
            "as scripts/test.sh does, or set GRAPH_AGENTS_CHROMIUM."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def concierge(tmp_path: Path) -> Any:
    """The example's network, its threads in ``tmp_path``."""
    return load(ROOT / "examples" / "ui_streaming" / "app.py").build_network(
        tmp_path / "web.sqlite"
    )


def test_start_watch_tokens_approve_and_complete(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with running(create_app(concierge(tmp_path))) as base:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base + "/")
        expect(page.locator("#title")).to_have_text("graph_agents · network concierge")
        # Record every text the lanes show, as the page changes them.
        page.evaluate(
            """() => {
              window.seenTexts = [];
              new MutationObserver(() => {
                const lane = document.querySelector('.lane[data-lane=""] .text');
                if (lane) window.seenTexts.push(lane.textContent);
              }).observe(document.getElementById("lanes"),
                         {subtree: true, childList: true, characterData: true});
            }"""
        )
        page.fill("#query", "Plan me a weekend in Lisbon")
        page.click("#run")
        expect(page.locator("#status")).to_have_text("running")
        main_lane = page.locator('.lane[data-lane=""] .text')
        expect(main_lane).to_contain_text("Let me check with the team.")
        # Tokens arrived one by one: the lane showed the answer growing, word by word.
        seen = [t for t in page.evaluate("window.seenTexts") if t.strip()]
        growing = [t for t in dict.fromkeys(seen) if "Let me check with the team." not in t]
        assert growing[:3] == ["Let", "Let me", "Let me check"]
        # The two delegations stream in lanes of their own.
        lanes = page.locator(".lane")
        expect(lanes).to_have_count(3, timeout=15_000)
        expect(page.locator('.lane[data-lane^="ask:"] .text').first).to_contain_text(
            re.compile("Sunny|Belém")
        )
        expect(page.locator("#path li")).to_have_text(["Concierge", "Weather", "Guide"])
        # The booking waits for a person.
        approval = page.locator(".approval")
        expect(approval).to_have_count(1, timeout=15_000)
        expect(approval).to_contain_text("book_flight")
        expect(page.locator("#status")).to_have_text("interrupted")
        expect(page.locator("#tools")).to_contain_text("search_flights")
        expect(page.locator("#state")).to_contain_text('"destination": "Lisbon"')
        approval.locator("button.approve").click()
        expect(approval).to_have_count(0)
        expect(page.locator("#status")).to_have_text("completed", timeout=20_000)
        expect(page.locator("#output")).to_contain_text("confirmation GA-7731")
        expect(page.locator("#tools")).to_contain_text("Booked: TP 1350")
        expect(page.locator("#state")).to_contain_text('"bookings"')
        assert errors == []
        page.close()


def test_a_rejection_from_the_page_reaches_the_model(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with running(create_app(concierge(tmp_path))) as base:
        page = browser.new_page()
        page.goto(base + "/")
        page.fill("#query", "Plan me a weekend in Lisbon")
        page.click("#run")
        approval = page.locator(".approval")
        expect(approval).to_have_count(1, timeout=20_000)
        approval.locator("input").fill("too expensive")
        approval.locator("button.reject").click()
        expect(page.locator("#status")).to_have_text("completed", timeout=20_000)
        expect(page.locator("#output")).to_contain_text("I did not book anything")
        page.close()


def test_a_token_protected_server_takes_the_token_from_the_url(browser: Any) -> None:
    from playwright.sync_api import expect

    from .test_streaming import handoff_network

    with running(create_app(handoff_network(), token="page-token")) as base:
        page = browser.new_page()
        page.goto(base + "/")
        expect(page.locator("#error")).to_contain_text("needs a token")
        page.goto(base + "/#token=page-token")
        expect(page.locator("#title")).to_have_text("graph_agents · network network")
        assert "token" not in page.url  # taken out of the address bar
        page.fill("#query", "Museums in Oslo?")
        page.click("#run")
        expect(page.locator("#status")).to_have_text("completed", timeout=20_000)
        expect(page.locator("#output")).to_have_text("Visit the Munch museum.")
        page.close()


def test_the_page_sends_a_user_id_for_user_scoped_memory(browser: Any) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import expect

    from graph_agents import Agent, create_network
    from graph_agents.memory import MemoryManager, VectorMemoryStore
    from graph_agents.testing import HashEmbeddings, ScriptedModel

    store = VectorMemoryStore("page_user", embeddings=HashEmbeddings())
    memory = MemoryManager(store, scope="user")
    network = create_network(
        agents=[Agent("Helper", "Help.", model=ScriptedModel(["Noted.", "Noted."]), memory=memory)]
    )
    with running(create_app(network)) as base:
        page = browser.new_page()
        page.goto(base + "/")
        page.fill("#query", "I like tea")
        page.click("#run")
        expect(page.locator("#error")).to_contain_text("has scope='user'; pass user_id")
        page.fill("#user-id", "ann")
        page.fill("#thread-id", "")
        page.click("#run")
        expect(page.locator("#status")).to_have_text("completed", timeout=15_000)
        expect(page.locator("#output")).to_have_text("Noted.")
        page.close()
    # Playwright's sync API holds this thread's event loop: read the memory in another.
    with ThreadPoolExecutor(1) as pool:
        [stored] = pool.submit(asyncio.run, memory.all(user_id="ann")).result()
    assert stored.text == "User: I like tea\nHelper: Noted."
