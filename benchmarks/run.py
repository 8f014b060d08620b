"""Run every benchmarks/bench_*.py and collect their reports in benchmarks/results.md.

Contract for a benchmark script: run as ``python benchmarks/bench_<topic>.py`` it
prints one or more Markdown sections (each starting with ``## `` and naming its
chapter, "chapter N" or "Chapter N") to standard output — tables of measurements
and the ratios its targets are stated in, each measured within that one run — and
may save plots as ``benchmarks/bench_<topic>*.png``. Timings are never asserted in
tests; they live here.

Scripts are discovered by name, so a new ``bench_<topic>.py`` joins the report
without any edit here. The sections of all scripts are ordered by chapter, so the
report reads chapter 0, 1, 2, … whatever the file names.

Usage: ``python benchmarks/run.py [name ...]`` runs all scripts, or those whose
name contains one of the given words; ``BENCH_NOTE="..."`` adds a sentence to the
header (e.g. that the machine was busy).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT_S = int(os.environ.get("BENCH_TIMEOUT", 600))  # per script


def machine_line() -> str:
    import numpy as np

    try:
        import torch  # noqa: F401  (a peer when installed; never a dependency)
        torch_part = f", PyTorch {torch.__version__} (CPU)"
    except ImportError:
        torch_part = ", PyTorch not installed"
    return (f"Python {platform.python_version()}, NumPy {np.__version__}{torch_part}, "
            f"{os.cpu_count()} CPU(s), {platform.machine()} {platform.system()}")


def split_sections(text: str) -> list[str]:
    """Cut a script's report at its ``## `` headings (text before the first heading stays with it)."""
    parts = re.split(r"(?m)^(?=## )", text.strip())
    return [p.strip() + "\n" for p in parts if p.strip()]


def chapter_of(section: str) -> int:
    """The chapter a section's heading names; 99 (last) if it names none."""
    heading = section.splitlines()[0]
    m = re.search(r"\b[Cc]hapter (\d+)", heading) or re.search(r"\bch(?:apter)?\s*(\d+)\b", heading)
    return int(m.group(1)) if m else 99


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if len(sys.argv) > 1:  # run a subset: python benchmarks/run.py attention mlp
        scripts = [s for s in scripts if any(k in s.stem for k in sys.argv[1:])]
    sections, failed, durations = [], [], {}
    t_all = time.perf_counter()
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                  cwd=HERE.parent, timeout=TIMEOUT_S)
            ok, out, err = proc.returncode == 0, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            ok, out, err = False, "", f"timed out after {TIMEOUT_S} s\n{exc.stderr or ''}"
        durations[script.name] = time.perf_counter() - t0
        print(f"  {durations[script.name]:.0f} s", flush=True)
        if not ok:
            failed.append(script.name)
            sections.append(f"## {script.stem}\n\nFAILED:\n\n```\n{str(err)[-3000:]}\n```\n")
        else:
            sections.extend(split_sections(out))
    sections.sort(key=chapter_of)  # stable: a script's own sections keep their order
    total = time.perf_counter() - t_all
    note = os.environ.get("BENCH_NOTE", "").strip()
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` on {dt.date.today().isoformat()} ({machine_line()}).\n"
        "Targets are stated as ratios measured within one run, so that a busy or slow\n"
        "machine moves both sides of a comparison together.\n"
        + (f"\n{note}\n" if note else "")
        + "\nWhole run: " + f"{total / 60:.1f} min ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items()) + ").\n"
    )
    (HERE / "results.md").write_text(header + "\n" + "\n".join(sections), encoding="utf-8")
    print(f"wrote {HERE / 'results.md'} in {total:.0f} s")
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
