"""The series as a whole: exercises in every chapter, complete references, chapters that link what they build on.

These read the committed chapter notebooks (nothing is executed).
"""

import inspect
import re
from pathlib import Path

import nbformat
import pytest

from lalib import exercises

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKER_CALL = re.compile(r"exercises\.(check_\w+)\(")
# doi:10.<registrant>/<suffix>; arXiv new style (YYMM.NNNNN, optional version) or old style (archive/YYMMNNN).
DOI = re.compile(r"doi:\s*(10\.\d{4,9}/[-._;()/:A-Za-z0-9]+[A-Za-z0-9)])", re.I)
ARXIV = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5}(v\d+)?|[a-z\-]+(\.[A-Z]{2})?/\d{7}(v\d+)?)(?!\d)(?!\.\d)")


def _nb(path):
    return nbformat.read(path, as_version=4)


def _references(nb):
    """The entries of the References section, which may go on over several cells (slides)."""
    cells = [c.source for c in nb.cells if c.cell_type == "markdown"]
    start = next((i for i, s in enumerate(cells) if "## References" in s), None)
    if start is None:
        return []
    text = "\n".join([cells[start].split("## References", 1)[1], *cells[start + 1:]])
    refs = []
    for line in text.splitlines():
        if line.startswith("#"):      # a heading after the references ends them
            break
        if line.startswith(("- ", "* ")):
            refs.append(line[2:].strip())
        elif refs and line.strip():   # a reference continued on the next line
            refs[-1] += " " + line.strip()
    return refs


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_three_to_six_exercises_each_ending_in_a_checker(path):
    calls = set(CHECKER_CALL.findall("\n".join(c.source for c in _nb(path).cells if c.cell_type == "code")))
    assert 3 <= len(calls) <= 6, f"{path.name} calls {len(calls)} distinct checkers {sorted(calls)}; want 3 to 6"
    missing = [c for c in calls if not hasattr(exercises, c)]
    assert not missing, f"{path.name} calls checkers that lalib.exercises lacks: {missing}"
    sol = ROOT / "notebooks" / "solutions" / (path.stem + "_solutions.ipynb")
    solved = set(CHECKER_CALL.findall("\n".join(c.source for c in _nb(sol).cells if c.cell_type == "code")))
    assert calls <= solved, f"{sol.name} does not run the checkers {sorted(calls - solved)}"


def test_every_checker_is_tested_against_a_wrong_answer():
    # Each test_*exercises*.py feeds its checkers plausible wrong answers and wants a failing verdict
    # with a hint; here we only make sure no checker is left out of those files.
    tested = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*exercises*.py"))
    checkers = [name for name, fn in inspect.getmembers(exercises, inspect.isfunction)
                if name.startswith("check_") and name != "check_value" and fn.__module__ == exercises.__name__]
    untested = [name for name in checkers if not re.search(rf"\b{name}\b", tested)]
    assert not untested, f"checkers with no test of a wrong answer: {untested}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_references_are_complete_and_well_formed(path):
    refs = _references(_nb(path))
    assert len(refs) >= 2, f"{path.name}: the References section lists {len(refs)} entries"
    for ref in refs:
        assert re.search(r"\b(1[89]\d\d|20\d\d)\b", ref), f"{path.name}: no year in reference {ref!r}"
        if re.search(r"\bTalk\b", ref):   # a talk has no identifier: its venue, place and date stand in
            continue
        has_id = DOI.search(ref) or ARXIV.search(ref) or re.search(r"ISBN[ :]*[\d-]{10,17}|https://\S+", ref)
        assert has_id, f"{path.name}: reference without a DOI, arXiv id, ISBN or address: {ref!r}"
        for word in re.findall(r"\bdoi:\s*\S+", ref, re.I):
            assert DOI.match(word), f"{path.name}: malformed DOI {word!r} in {ref!r}"
        for word in re.findall(r"\barXiv:\s*\S+", ref):
            assert ARXIV.match(word), f"{path.name}: malformed arXiv id {word!r} in {ref!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapters_link_the_chapters_they_build_on(path):
    number = int(path.stem[:2])
    opening = "\n".join(c.source for c in _nb(path).cells[:3] if c.cell_type == "markdown")
    mentioned = {int(n) for n in re.findall(r"\b[Cc]hapters? (\d)\b", opening)}
    mentioned |= {int(n) for a, b in re.findall(r"\b[Cc]hapters (\d)[–-](\d)\b", opening)
                  for n in range(int(a), int(b) + 1)}
    for n in sorted(m for m in mentioned if m < number):
        target = next((ROOT / "notebooks").glob(f"{n:02d}_*.ipynb"), None)
        assert target is not None
        assert re.search(rf"\]\((\./)?{re.escape(target.name)}(#[^)]*)?\)", opening), (
            f"{path.name} builds on chapter {n} but its opening cells do not link {target.name}"
        )


def test_readme_has_the_notation_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Notation" in readme
    table = readme.split("## Notation", 1)[1].split("\n## ", 1)[0]
    for symbol in ("$n$", "$d$", "$d_k$", "$h$", "$k$", "$r$", "$L = D - A$", r"\hat A"):
        assert symbol in table, f"the README's notation table does not define {symbol}"
