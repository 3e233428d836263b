"""Per-turn overhead in CPU instructions (valgrind's callgrind), not seconds.

Wall and CPU time on this shared 2-core machine move by 15% or more between runs, which
is the size of the tracing target (on at most 1.15x off). Instruction counts do not
depend on what else the machine does: the same program on the same input counts the
same, give or take a fraction of a percent. This runs `overhead.py`'s ring (three
agents, nine turns, `ScriptedModel`, in-memory checkpointer) under callgrind and counts
the instructions each side executes per turn:

- raw LangGraph (the same graph written by hand),
- graph_agents with tracing off (``tracing=False``),
- the default (no provider configured: spans feed only ``get_traces()``),
- tracing on into an SDK `TracerProvider` with ``SimpleSpanProcessor(InMemorySpanExporter())``.

    python benchmarks/overhead_instructions.py [--runs 10] [--rounds 5]

Needs ``valgrind`` (with its ``callgrind.h`` header) and a C compiler: a five-line helper
is compiled into a temporary directory to switch counting on and off around each
measured block (callgrind's client requests), so that imports and warm-up are not
counted. Instruction counts leave out cache misses and the like, so they complement the
CPU-time ratio `overhead.py` prints; they do not replace it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from overhead import TURNS, make_sides

_HELPER = r"""
#include <valgrind/callgrind.h>
void ga_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void ga_zero(void) { CALLGRIND_ZERO_STATS; }
void ga_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""
_CHILD = "GRAPH_AGENTS_CALLGRIND_CHILD"
SIDES = ("raw", "off", "default", "exporter")
"""`overhead.make_sides`' keys."""


def parent(args: argparse.Namespace) -> None:
    for tool in ("valgrind", "cc"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: this benchmark counts instructions under it")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "helper.c")
        source.write_text(_HELPER)
        helper = Path(tmp, "helper.so")
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", helper, source], check=True)
        out = Path(tmp, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}.%p",
            sys.executable,
            __file__,
            *sys.argv[1:],
        ]
        env = {**os.environ, _CHILD: str(helper)}
        subprocess.run(command, check=True, env=env, stderr=subprocess.DEVNULL)
        counts: dict[str, list[float]] = {side: [] for side in SIDES}
        for dump in Path(tmp).glob("callgrind.out.*"):
            text = dump.read_text()
            label = re.search(r"^desc: Trigger: Client Request: (\S+) (\d+)$", text, re.M)
            total = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
            if label is None or total is None:
                continue  # the dump at exit, of what ran after the last block
            counts[label.group(1)].append(int(total.group(1)) / (args.runs * TURNS))
    report(counts, args)


def report(counts: dict[str, list[float]], args: argparse.Namespace) -> None:
    print(
        f"3 agents, {TURNS} turns per run, ScriptedModel, in-memory checkpointer; "
        f"instructions per turn under callgrind, {args.rounds} rounds of {args.runs} runs"
    )

    def line(label: str, side: str, base: str) -> None:
        ratios = sorted(m / b for m, b in zip(counts[side], counts[base], strict=True))
        mine = statistics.median(counts[side])
        theirs = statistics.median(counts[base])
        print(
            f"  {label:<38} {mine / 1e6:6.3f} M vs {theirs / 1e6:6.3f} M  "
            f"ratio {mine / theirs:5.3f}x  (rounds {', '.join(f'{r:.3f}' for r in ratios)})"
        )

    line("tracing off / raw LangGraph", "off", "raw")
    line("default (get_traces only) / off", "default", "off")
    line("tracing on (in-memory exporter) / off", "exporter", "off")


def child(args: argparse.Namespace, helper: str) -> None:
    lib = ctypes.CDLL(helper)
    lib.ga_dump.argtypes = [ctypes.c_char_p]
    exporter = InMemorySpanExporter()
    runners = make_sides(exporter)

    async def measure() -> None:
        for run in runners.values():  # warm-up, not counted
            for _ in range(3):
                await run()
        lib.ga_start()
        for round_number in range(args.rounds):
            shift = round_number % len(SIDES)
            for side in SIDES[shift:] + SIDES[:shift]:
                gc.collect()  # each block starts from the same collector state
                lib.ga_zero()
                for _ in range(args.runs):
                    await runners[side]()
                lib.ga_dump(f"{side} {round_number}".encode())
            exporter.clear()

    asyncio.run(measure())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="runs per measured block")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per side, interleaved")
    arguments = parser.parse_args()
    helper_path = os.environ.get(_CHILD)
    if helper_path:
        child(arguments, helper_path)
    else:
        parent(arguments)
