"""Graph export: Mermaid and ASCII snapshots, PNG/SVG through Graphviz, an HTML page that
renders offline in headless Chromium, and the errors for what is missing."""

from __future__ import annotations

import base64
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from graph_agents import Agent, ConfigurationError, Step, create_network, create_workflow
from graph_agents.routers import RuleBasedRouter
from graph_agents.testing import ScriptedModel

from .test_web_view import browser  # noqa: F401 - the module's headless Chromium fixture

SNAPSHOTS = Path(__file__).parent / "snapshots"


def agents() -> list[Agent]:
    return [Agent(n, n, model=ScriptedModel(["x"])) for n in ("Researcher", "Writer", "Reviewer")]


def network() -> Any:
    router = RuleBasedRouter().add_rule("draft", "Writer")
    return create_network(agents(), router=router, name="team", fallback="Researcher")


def workflow() -> Any:
    return create_workflow(
        "Research and Write",
        agents(),
        steps=[
            Step.agent("researcher", "Research {topic}"),
            Step.parallel([Step.agent("writer", "Intro"), Step.agent("writer", "Body")]),
            Step.agent("reviewer", "Review"),
            Step.conditional(
                condition=lambda state: True,
                true_step=Step.agent("writer", "Revise"),
                false_step=Step.transform(lambda x: x),
            ),
            Step.loop([Step.agent("reviewer", "Check")], until=lambda s: True, max_iterations=2),
        ],
    )


def snapshot(name: str, text: str) -> None:
    assert text == (SNAPSHOTS / name).read_text()


def test_network_dot_snapshot(tmp_path: Path) -> None:
    text = network().save_graph(tmp_path / "team.dot").read_text()
    snapshot("network.dot", text)
    dashed = [line.strip() for line in text.splitlines() if "style=dashed" in line]
    assert len(dashed) == 6
    assert all('[label="ask", style=dashed]' in line for line in dashed)


def test_network_mermaid_snapshot() -> None:
    text = network().draw_mermaid()
    snapshot("network.mmd", text)
    assert 'route{{"router: RuleBasedRouter"}}' in text
    assert "route -->|fallback| agent_Researcher" in text
    assert "agent_Researcher -->|handoff| agent_Writer" in text
    assert "agent_Researcher -.->|ask| agent_Writer" in text


def test_a_per_turn_router_is_consulted_after_every_turn() -> None:
    def pick(context: Any) -> str | None:
        return None

    text = create_network(agents()[:2], router=pick).draw_mermaid()
    assert 'route{{"per-turn router: pick"}}' in text
    assert "agent_Writer -->|next turn| route" in text
    assert "route -->|done| finish" in text


def test_workflow_mermaid_and_ascii_snapshots() -> None:
    flow = workflow()
    text = flow.draw_mermaid()
    snapshot("workflow.mmd", text)
    assert "s_s4_conditional -->|true| s_s4_conditional_then_writer" in text
    assert "s_s4_conditional -->|false| s_s4_conditional_else_transform" in text
    assert "s_s2_parallel_2_writer --> s_s2_parallel_join" in text
    assert "s_s5_loop -->|again (max 2)| s_s5_loop_1_reviewer" in text
    snapshot("workflow.txt", flow.draw_ascii())


def test_ascii_snapshot_of_a_network() -> None:
    snapshot("network.txt", network().draw_ascii())


def test_labels_are_escaped() -> None:
    odd = create_network([Agent('A "quoted" <b>&x', "a", model=ScriptedModel(["x"]))])
    text = odd.draw_mermaid()
    assert 'agent_A__quoted___b__x["A #quot;quoted#quot; #lt;b#gt;#amp;x"]' in text


def test_draw_ascii_without_grandalf_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "grandalf", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'graph-agents\[graph\]'"):
        network().draw_ascii()


def test_png_and_svg_through_graphviz(tmp_path: Path) -> None:
    png = network().save_graph(tmp_path / "team.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
    svg = workflow().save_graph(tmp_path / "flow.svg").read_text()
    assert "<svg" in svg
    assert "s3_reviewer: Reviewer" in svg


def test_png_without_dot_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigurationError, match="install Graphviz"):
        network().save_graph(tmp_path / "team.png")
    assert not (tmp_path / "team.png").exists()


def test_text_formats_and_a_bad_suffix(tmp_path: Path) -> None:
    flow = workflow()
    assert flow.save_graph(tmp_path / "f.mmd").read_text() == flow.draw_mermaid()
    markdown = flow.save_graph(tmp_path / "f.md").read_text()
    assert markdown == f"# Research and Write\n\n```mermaid\n{flow.draw_mermaid()}```\n"
    assert flow.save_graph(tmp_path / "f.dot").read_text().startswith('digraph "Research')
    with pytest.raises(ConfigurationError, match=r"unknown suffix '\.jpeg'; use \.mmd"):
        flow.save_graph(tmp_path / "f.jpeg")
    missing = tmp_path / "no-such-folder" / "f.mmd"
    with pytest.raises(ConfigurationError) as error:
        flow.save_graph(missing)
    assert str(error.value) == (
        f"save_graph({str(missing)!r}): cannot write it (No such file or directory); pass "
        "a path in a folder that exists and this process can write."
    )


def test_the_html_renders_offline_in_chromium(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    page_file = network().save_graph(tmp_path / "team.html")
    text = page_file.read_text()
    assert "http://" not in text.split("<script>", 1)[0]
    assert "<script src" not in text
    context = browser.new_context()
    requests: list[str] = []

    def refuse(route: Any) -> None:
        if not route.request.url.startswith("file://"):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", refuse)
    page = context.new_page()
    try:
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-rendered='true']", timeout=30_000)
        labels = page.locator("pre.mermaid svg").text_content() or ""
        for name in ("Researcher", "Writer", "Reviewer", "router: RuleBasedRouter"):
            assert name in labels
        shot = page.screenshot(full_page=True)
        # Count the dark pixels of the screenshot (in the page: no imaging library needed).
        dark = page.evaluate(
            """async (data) => {
                const image = new Image();
                image.src = "data:image/png;base64," + data;
                await image.decode();
                const canvas = document.createElement("canvas");
                canvas.width = image.width; canvas.height = image.height;
                const draw = canvas.getContext("2d");
                draw.drawImage(image, 0, 0);
                const pixels = draw.getImageData(0, 0, image.width, image.height).data;
                let dark = 0;
                for (let i = 0; i < pixels.length; i += 4) {
                    if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 384) dark++;
                }
                return dark;
            }""",
            base64.b64encode(shot).decode(),
        )
    finally:
        context.close()
    assert requests == []
    assert dark > 2_000  # boxes, arrows and text drawn, not a blank page
