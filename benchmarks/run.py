"""Run every benchmarks/bench_*.py and collect their reports in benchmarks/results.md.

Contract for a benchmark script: run as ``python benchmarks/bench_<topic>.py`` it
prints one Markdown section (starting with ``## ``) to standard output — tables
of measurements and the ratios its targets are stated in, each measured within
that one run — and may save plots as ``benchmarks/bench_<topic>*.png``.
Timings are never asserted in tests; they live here.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine_line() -> str:
    import numpy as np

    return (f"Python {platform.python_version()}, NumPy {np.__version__}, "
            f"{os.cpu_count()} CPU(s), {platform.machine()} {platform.system()}")


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if len(sys.argv) > 1:  # run a subset: python benchmarks/run.py attention mlp
        scripts = [s for s in scripts if any(k in s.stem for k in sys.argv[1:])]
    sections, failed = [], []
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent)
        if proc.returncode != 0:
            failed.append(script.name)
            sections.append(f"## {script.stem}\n\nFAILED:\n\n```\n{proc.stderr[-3000:]}\n```\n")
        else:
            sections.append(proc.stdout.strip() + "\n")
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` on {dt.date.today().isoformat()} ({machine_line()}).\n"
        "Targets are stated as ratios measured within one run, so that a busy or slow\n"
        "machine moves both sides of a comparison together.\n"
    )
    (HERE / "results.md").write_text(header + "\n" + "\n".join(sections), encoding="utf-8")
    print(f"wrote {HERE / 'results.md'}")
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
