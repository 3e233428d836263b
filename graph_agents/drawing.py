"""Graph export: a network's or workflow's shape as Mermaid, ASCII, HTML, PNG or SVG.

The diagram is drawn from the definition (agents, router, steps), not from LangGraph's
node list, so it reads as the user wrote it:

- a network: ``start`` -> the router (a hexagon naming it) -> each agent; solid
  ``handoff`` edges and dotted ``ask`` (delegation) edges between agents; a per-turn
  router is consulted again after each turn (``next turn`` edges back to it);
- a workflow: its steps in order; a parallel step forks into its branches and joins;
  a conditional step is a diamond with ``true``/``false`` edges; a loop returns to its
  body until its condition holds.

``.html`` files embed the Mermaid library that ships inside the package (no CDN);
``.png`` and ``.svg`` are rendered by Graphviz's ``dot``, which must be on ``PATH``.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .exceptions import ConfigurationError
from .steps import AgentStep, ConditionalStep, LoopStep, ParallelStep, TransformStep

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .agent import Agent
    from .nodes.workflow import CompiledStep
    from .routers.base import Router

__all__ = ["Diagram", "network_diagram", "save_graph", "workflow_diagram"]

Shape = Literal["terminal", "router", "agent", "step", "decision", "fork", "transform"]
EdgeStyle = Literal["solid", "dotted"]


@dataclass
class Diagram:
    """Nodes and edges of a drawing, in the order they are declared."""

    title: str
    nodes: dict[str, tuple[str, Shape]] = field(default_factory=dict)
    """Node id -> (label, shape)."""
    edges: list[tuple[str, str, str, EdgeStyle]] = field(default_factory=list)
    """(source id, target id, label, style)."""

    def node(self, node_id: str, label: str, shape: Shape) -> str:
        """Add a node (once); its id."""
        self.nodes.setdefault(node_id, (label, shape))
        return node_id

    def edge(self, source: str, target: str, label: str = "", style: EdgeStyle = "solid") -> None:
        """Add an edge."""
        self.edges.append((source, target, label, style))

    # -- formats -------------------------------------------------------------------

    def mermaid(self) -> str:
        """Mermaid ``flowchart`` text."""
        shapes = {
            "terminal": ('(["', '"])'),
            "router": ('{{"', '"}}'),
            "agent": ('["', '"]'),
            "step": ('["', '"]'),
            "decision": ('{"', '"}'),
            "fork": ('[["', '"]]'),
            "transform": ('[/"', '"/]'),
        }
        lines = ["flowchart TD"]
        for node_id, (label, shape) in self.nodes.items():
            left, right = shapes[shape]
            lines.append(f"    {node_id}{left}{_mermaid_text(label)}{right}")
        for source, target, label, style in self.edges:
            arrow = "-.->" if style == "dotted" else "-->"
            text = f"|{_mermaid_text(label)}|" if label else ""
            lines.append(f"    {source} {arrow}{text} {target}")
        classes = {
            "router": "fill:#fff4d6,stroke:#b8860b",
            "agent": "fill:#e8f0fe,stroke:#3367d6",
            "decision": "fill:#fdecea,stroke:#c5221f",
        }
        for kind, css in classes.items():
            members = [n for n, (_, shape) in self.nodes.items() if shape == kind]
            if members:
                lines.append(f"    classDef {kind} {css}")
                lines.append(f"    class {','.join(members)} {kind}")
        return "\n".join(lines) + "\n"

    def dot(self) -> str:
        """Graphviz ``dot`` text."""
        shapes = {
            "terminal": "oval",
            "router": "hexagon",
            "agent": "box",
            "step": "box",
            "decision": "diamond",
            "fork": "box3d",
            "transform": "parallelogram",
        }
        lines = [
            f"digraph {json.dumps(self.title)} {{",
            '  rankdir=TB; node [fontname="Helvetica"]; edge [fontname="Helvetica"];',
        ]
        for node_id, (label, shape) in self.nodes.items():
            lines.append(f"  {node_id} [label={json.dumps(label)}, shape={shapes[shape]}];")
        for source, target, label, style in self.edges:
            attrs = [f"label={json.dumps(label)}"] if label else []
            if style == "dotted":
                attrs.append("style=dashed")
            lines.append(f"  {source} -> {target} [{', '.join(attrs)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def ascii(self) -> str:
        """A box-and-line drawing (needs ``grandalf``: the ``graph`` extra).

        Raises:
            ConfigurationError: ``grandalf`` is not installed.
        """
        try:
            import grandalf  # type: ignore[import-untyped]  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                "draw_ascii() lays the graph out with grandalf, which is not installed: "
                "pip install 'graph-agents[graph]' (or use draw_mermaid())."
            ) from exc
        from langchain_core.runnables.graph import Edge, Graph, Node

        graph = Graph()
        for node_id, (label, _) in self.nodes.items():
            graph.nodes[node_id] = Node(id=node_id, name=label, data=None, metadata=None)
        seen = set()
        for source, target, label, _style in self.edges:
            if (source, target) in seen:
                continue  # the ASCII layout draws one line per pair
            seen.add((source, target))
            graph.edges.append(Edge(source, target, data=label or None, conditional=False))
        return graph.draw_ascii()

    def html(self) -> str:
        """A standalone HTML page rendering the diagram with the packaged Mermaid (no
        network access)."""
        script = resources.files("graph_agents").joinpath("static/mermaid.min.js").read_text()
        # The library goes in a script element: "</script" inside it would end it early.
        script = script.replace("</script", "<\\/script")
        return (
            "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>\n"
            f"<title>{html.escape(self.title)}</title>\n"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem}"
            "pre.mermaid{background:#fff}</style>\n</head><body>\n"
            f"<h1>{html.escape(self.title)}</h1>\n"
            f"<pre class='mermaid'>\n{html.escape(self.mermaid())}</pre>\n"
            f"<script>{script}</script>\n"
            "<script>mermaid.initialize({startOnLoad:false,securityLevel:'strict'});"
            "mermaid.run({querySelector:'pre.mermaid'}).then(function(){"
            "document.body.setAttribute('data-rendered','true');});</script>\n"
            "</body></html>\n"
        )


def _mermaid_text(label: str) -> str:
    # Inside a quoted Mermaid label, quotes and markup are written as entity codes.
    return (
        label.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
    )


def _id(prefix: str, name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name)
    return f"{prefix}_{cleaned}"


def network_diagram(
    name: str, agents: Sequence[Agent], router: Router | None, fallback: str | None
) -> Diagram:
    """The diagram of a network."""
    diagram = Diagram(name)
    start = diagram.node("start", "start", "terminal")
    ids = [diagram.node(_id("agent", a.name), a.name, "agent") for a in agents]
    end = diagram.node("finish", "end", "terminal")
    if router is not None:
        kind = "per-turn router" if router.per_turn else "router"
        route = diagram.node("route", f"{kind}: {router.name}", "router")
        diagram.edge(start, route)
        for agent, node_id in zip(agents, ids, strict=True):
            label = "fallback" if fallback is not None and agent.name == fallback else ""
            diagram.edge(route, node_id, label)
        if router.per_turn:
            for node_id in ids:
                diagram.edge(node_id, route, "next turn")
            diagram.edge(route, end, "done")
    else:
        diagram.edge(start, ids[0], "new thread")
    for source in ids:
        for target in ids:
            if source != target:
                diagram.edge(source, target, "handoff")
    for source in ids:
        for target in ids:
            if source != target:
                diagram.edge(source, target, "ask", "dotted")
    if router is None or not router.per_turn:
        for node_id in ids:
            diagram.edge(node_id, end)
    return diagram


def workflow_diagram(name: str, steps: Sequence[CompiledStep]) -> Diagram:
    """The diagram of a workflow."""
    diagram = Diagram(name)
    exits = [diagram.node("start", "start", "terminal")]
    for step in steps:
        exits = _step(diagram, step, exits)
    end = diagram.node("finish", "end", "terminal")
    for source in exits:
        diagram.edge(source, end)
    return diagram


def _step(diagram: Diagram, step: CompiledStep, entries: list[str], label: str = "") -> list[str]:
    """Draw ``step`` after ``entries``; the nodes it exits from."""
    definition = step.step
    node_id = _id("s", step.id)

    def enter(target: str) -> None:
        for source in entries:
            diagram.edge(source, target, label)

    if isinstance(definition, AgentStep):
        enter(diagram.node(node_id, f"{step.id}: {step.agent}", "agent"))
        return [node_id]
    if isinstance(definition, TransformStep):
        enter(diagram.node(node_id, f"{step.id}: transform", "transform"))
        return [node_id]
    if isinstance(definition, ParallelStep):
        fork = diagram.node(node_id, f"{step.id}: parallel", "fork")
        enter(fork)
        join = diagram.node(f"{node_id}_join", "join", "fork")
        for child in step.children:
            for exit_id in _step(diagram, child, [fork]):
                diagram.edge(exit_id, join)
        return [join]
    if isinstance(definition, ConditionalStep):
        decision = diagram.node(node_id, f"{step.id}: condition", "decision")
        enter(decision)
        exits = _step(diagram, step.children[0], [decision], "true")
        if step.otherwise is not None:
            exits += _step(diagram, step.otherwise, [decision], "false")
        else:
            merge = diagram.node(f"{node_id}_skip", "skip", "step")
            diagram.edge(decision, merge, "false")
            exits.append(merge)
        return exits
    if isinstance(definition, LoopStep):
        check = diagram.node(node_id, f"{step.id}: until", "decision")
        body = entries
        first: str | None = None
        for child in step.children:
            before = set(diagram.nodes)
            body = _step(diagram, child, body)
            if first is None:
                first = next((n for n in diagram.nodes if n not in before), None)
        for source in body:
            diagram.edge(source, check)
        if first is not None:
            diagram.edge(check, first, f"again (max {definition.max_iterations})")
        return [check]
    enter(diagram.node(node_id, step.id, "step"))
    return [node_id]


def save_graph(diagram: Diagram, path: str | Path) -> Path:
    """Write ``diagram`` to ``path``, in the format its suffix names: ``.mmd`` (Mermaid
    text), ``.md`` (a Markdown ``mermaid`` block), ``.html`` (a standalone page),
    ``.dot``, ``.png`` or ``.svg`` (Graphviz).

    Raises:
        ConfigurationError: an unknown suffix, a path that cannot be written, or ``dot``
            is missing for PNG/SVG.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".mmd":
        _write(target, diagram.mermaid())
    elif suffix == ".md":
        _write(target, f"# {diagram.title}\n\n```mermaid\n{diagram.mermaid()}```\n")
    elif suffix == ".html":
        _write(target, diagram.html())
    elif suffix == ".dot":
        _write(target, diagram.dot())
    elif suffix in (".png", ".svg"):
        dot = shutil.which("dot")
        if dot is None:
            raise ConfigurationError(
                f"Writing {target.name!r} needs Graphviz's 'dot' program, which is not on "
                "PATH: install Graphviz (apt-get install graphviz, brew install graphviz), "
                "or save as .html, .mmd or .md instead."
            )
        done = subprocess.run(
            [dot, f"-T{suffix[1:]}", "-o", str(target)],
            input=diagram.dot().encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise ConfigurationError(
                f"Graphviz failed to write {target.name!r}: "
                f"{done.stderr.decode(errors='replace').strip()}"
            )
    else:
        raise ConfigurationError(
            f"save_graph({str(path)!r}): unknown suffix {suffix or '(none)'!r}; use .mmd, "
            ".md, .html, .dot, .png or .svg."
        )
    return target


def _write(target: Path, text: str) -> None:
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"save_graph({str(target)!r}): cannot write it ({exc.strerror or exc}); pass a "
            "path in a folder that exists and this process can write."
        ) from exc
