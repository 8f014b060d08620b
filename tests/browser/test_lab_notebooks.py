"""Every chapter and solutions notebook, as a learner meets it in JupyterLab.

Discovered from notebooks/ (a new chapter is covered without editing this file).
Opened in a fresh workspace on the server's temporary copy, each notebook must

* render its committed outputs: no error or stderr output, no blank output
  area, no image that fails to load, and every widget output showing its PNG
  still (committed notebooks carry no widget state, and a fresh clone is not
  trusted, so JupyterLab shows the explorer's ``image/png`` fallback, never
  "model not found");
* stay byte-identical on disk after opening, and not be marked dirty (a
  learner's ``git pull`` must not conflict with a notebook they only opened);
  saving it unchanged must also leave it byte-identical, as autosave would;
* run top to bottom (Run All) to an idle kernel with every code cell executed,
  no error or stderr output and every widget rendered live.
"""

from pathlib import Path

import pytest

from harness import open_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.rglob("*.ipynb")
               if ".ipynb_checkpoints" not in p.parts)


def test_there_are_notebooks():
    assert PATHS, "no notebooks found under notebooks/"


@pytest.mark.parametrize("path", PATHS)
def test_notebook_opens_unchanged_and_runs_clean(lab, page, path, screenshots):
    committed = (NOTEBOOKS / path).read_bytes()
    shot = screenshots / (path.replace("/", "_") + ".png")
    nb = open_notebook(page, lab, path)

    problems = nb.problems(committed=True)
    assert not problems, "committed outputs do not render:\n" + "\n".join(problems)
    assert not nb.is_dirty(), f"{path}: opening the notebook marked it modified"
    assert (lab.root / path).read_bytes() == committed, f"{path}: opening it changed the file on disk"
    nb.save()
    assert (lab.root / path).read_bytes() == committed, (
        f"{path}: saving it unchanged rewrote the file (commit notebooks in the form JupyterLab writes)")

    nb.run_all()
    page.wait_for_timeout(500)  # let the first cell be queued before watching for idle
    nb.wait_idle()
    page.screenshot(path=str(shot), full_page=True)
    problems = nb.problems()
    assert not problems, f"after Run All (screenshot {shot}):\n" + "\n".join(problems)
    unrun = nb.unexecuted_code_cells()
    assert not unrun, f"{path}: code cells {unrun} did not run"
