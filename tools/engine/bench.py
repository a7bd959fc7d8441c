"""The policy engine's benchmark goals, measured: ratios from Google Benchmark's JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

from tools.errors import ToolkitError

#: (name of the measured benchmark, name of its baseline, goal: at most this ratio)
BENCH_RATIOS = (
    ("BM_Update/1000", "BM_Parse/1000", 3.0),
    ("BM_Update/10000", "BM_Parse/10000", 3.0),
    ("BM_CheckL4", "BM_BaselineHashAndBinarySearch", 2.0),
    ("BM_HostsUpdate", "BM_HostsParse", 2.0),
)
#: Reported next to each other, without a goal.
BENCH_COMPARISONS = (
    ("BM_HostsLookup", "BM_HostsLookupBaseline"),
    ("BM_UpdateUnchanged/10000", "BM_Update/10000"),
)


def bench_summary(path: Path) -> str:
    """The goals of the issue, measured: ratios from Google Benchmark's JSON output."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ToolkitError(f"Could not read the benchmark results {path}: {exc}.") from None
    # The best of the repetitions: the least disturbed by whatever else the machine ran.
    times: Dict[str, float] = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        value = float(b["cpu_time"]) * _UNIT[b.get("time_unit", "ns")]
        times[name] = min(value, times.get(name, value))
    lines = ["benchmark ratios, best of the repetitions (goal):"]
    for name, base, goal in BENCH_RATIOS:
        if name in times and base in times:
            ratio = times[name] / times[base]
            verdict = "ok" if ratio <= goal else "OVER GOAL"
            lines.append(f"  {name} / {base} = {ratio:.2f} (<= {goal:g}) {verdict}")
    for name, base in BENCH_COMPARISONS:
        if name in times and base in times:
            lines.append(f"  {name} / {base} = {times[name] / times[base]:.2f}")
    small, large = times.get("BM_Update/1000"), times.get("BM_Update/10000")
    if small and large:
        lines.append(f"  BM_Update/10000 / BM_Update/1000 = {large / small:.1f} (linear: about 10)")
    return "\n".join(lines)


_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
