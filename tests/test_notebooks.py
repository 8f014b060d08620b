"""Every committed notebook is fresh, well formed and follows the conventions.

nbval (``make test-notebooks``) re-runs each notebook and compares the checked
cells; these tests look at the committed files themselves — what a reader on
GitHub sees without running anything.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
NOTEBOOKS = CHAPTERS + SOLUTIONS
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]


def test_there_are_notebooks():
    assert CHAPTERS, "no chapter notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
class TestFresh:
    def test_executed_in_order(self, path):
        counts = [c.get("execution_count") for c in _code_cells(_load(path))]
        assert counts == list(range(1, len(counts) + 1)), (
            f"{path.name}: execution counts {counts[:12]}... are not 1, 2, 3, ...; "
            "re-run it top to bottom (make notebooks)"
        )

    def test_no_errors_or_stderr(self, path):
        for i, cell in enumerate(_load(path)["cells"]):
            for out in cell.get("outputs", []):
                assert out["output_type"] != "error", f"{path.name}: cell {i} stores an error"
                assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), (
                    f"{path.name}: cell {i} stores stderr output: {''.join(out.get('text', ''))[:200]!r}"
                )

    def test_python3_kernel(self, path):
        spec = _load(path)["metadata"].get("kernelspec", {})
        assert spec.get("name") == "python3" and spec.get("language") == "python", spec
        # JupyterLab rewrites any other display name on open, and autosave then dirties the file.
        assert spec.get("display_name") == "Python 3 (ipykernel)", spec

    def test_markers_are_tags_not_comments(self, path):
        # Learners and slides see only the mathematics: nbval reads cell tags.
        for i, cell in enumerate(_load(path)["cells"]):
            assert "NBVAL_" not in _source(cell), (
                f"{path.name}: cell {i} carries a # NBVAL_ comment; use the tag nbval-check-output "
                "or nbval-ignore-output instead"
            )

    def test_small(self, path):
        assert path.stat().st_size < 2_000_000, f"{path.name} is {path.stat().st_size / 1e6:.2f} MB"

    def test_slide_metadata(self, path):
        for i, cell in enumerate(_load(path)["cells"]):
            kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
            assert kind in SLIDE_TYPES, f"{path.name}: cell {i} has no RISE slide_type (got {kind!r})"

    def test_widgets_carry_a_picture(self, path):
        for i, cell in enumerate(_load(path)["cells"]):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if WIDGET_MIME in data:
                    assert "image/png" in data, f"{path.name}: widget in cell {i} has no static PNG"
                    assert "nbval-ignore-output" in _tags(cell), (
                        f"{path.name}: widget cell {i} must carry the tag nbval-ignore-output"
                    )

    def test_timing_cells_are_ignored(self, path):
        for i, cell in enumerate(_code_cells(_load(path))):
            src = _source(cell)
            if re.search(r"%%?time|perf_counter|tracemalloc", src):
                assert "nbval-ignore-output" in _tags(cell), (
                    f"{path.name}: timing code cell {i} must carry the tag nbval-ignore-output"
                )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
class TestChapterShape:
    def test_opens_with_goals_prerequisites_and_source(self, path):
        # A short title slide, then the goals, prerequisites and source on the slides after it:
        # the opening is the markdown of the first three cells.
        opening = "\n".join(_source(c) for c in _load(path)["cells"][:3] if c["cell_type"] == "markdown").lower()
        for phrase in ("you will learn", "you need", "baggag"):
            assert phrase in opening, f"{path.name}: the opening cells should say {phrase!r}"

    def test_closes_with_summary_exercises_references(self, path):
        text = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "markdown").lower()
        for heading in ("## summary", "## exercises", "## references"):
            assert heading in text, f"{path.name}: missing a '{heading}' section"

    def test_has_check_cells(self, path):
        checks = [c for c in _code_cells(_load(path)) if "nbval-check-output" in _tags(c)]
        assert len(checks) >= 5, f"{path.name}: only {len(checks)} check cells"

    def test_has_a_solutions_notebook(self, path):
        sol = ROOT / "notebooks" / "solutions" / (path.stem + "_solutions.ipynb")
        assert sol.exists(), f"missing {sol.relative_to(ROOT)}"

    def test_exercises_call_checkers(self, path):
        src = "\n".join(_source(c) for c in _code_cells(_load(path)))
        assert re.search(r"exercises\.check_\w+\(", src), f"{path.name}: no exercise checker is called"
