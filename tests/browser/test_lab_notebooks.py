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

Several notebooks run at once (``LALIB_BROWSER_PARALLEL``, default 3), each in
its own page and kernel: the suite waits on kernels, not on the browser.
"""

import os
from pathlib import Path

import pytest

from harness import goto_notebook, new_page, notebooks_dir, wait_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = notebooks_dir()
PATHS = sorted(p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.rglob("*.ipynb")
               if ".ipynb_checkpoints" not in p.parts)
PARALLEL = max(1, int(os.environ.get("LALIB_BROWSER_PARALLEL", "3")))


class Runs:
    """Opens notebooks ahead of the test that checks them, so up to PARALLEL kernels work at once."""

    def __init__(self, lab, browser):
        self.lab, self.browser = lab, browser
        self.pages, self.opened = {}, {}

    def _goto(self, path):
        if path not in self.pages:
            self.pages[path] = page = new_page(self.browser)
            goto_notebook(page, self.lab, path)

    def _open_and_start(self, path):
        """Check the notebook as opened (before running), then start Run All."""
        if path in self.opened:
            return
        self._goto(path)
        page = self.pages[path]
        committed = (NOTEBOOKS / path).read_bytes()
        nb = wait_notebook(page, self.lab, path)
        failures = nb.problems(committed=True)
        if nb.is_dirty():
            failures.append(f"{path}: opening the notebook marked it modified")
        if (self.lab.root / path).read_bytes() != committed:
            failures.append(f"{path}: opening it changed the file on disk")
        else:
            nb.save()
            if (self.lab.root / path).read_bytes() != committed:
                failures.append(f"{path}: saving it unchanged rewrote the file "
                                "(commit notebooks in the form JupyterLab writes)")
        nb.run_all()
        self.opened[path] = (nb, failures)

    def get(self, path):
        i = PATHS.index(path)
        ahead = PATHS[i:i + PARALLEL]
        for p in ahead:  # pages load in parallel
            self._goto(p)
        for p in ahead:
            self._open_and_start(p)
        return self.opened[path]

    def close(self, path):
        nb, _ = self.opened.pop(path)
        nb.shutdown_kernel()
        self.pages.pop(path).context.close()


@pytest.fixture(scope="module")
def runs(lab, browser):
    r = Runs(lab, browser)
    yield r
    for path in list(r.opened):
        r.close(path)


def test_there_are_notebooks():
    assert PATHS, "no notebooks found under notebooks/"


@pytest.mark.parametrize("path", PATHS)
def test_notebook_opens_unchanged_and_runs_clean(runs, path, screenshots):
    nb, failures = runs.get(path)
    try:
        assert not failures, "as opened, before running:\n" + "\n".join(failures)
        nb.page.wait_for_timeout(500)  # let the first cell be queued before watching for idle
        nb.wait_idle(timeout=300)
        shot = screenshots / (path.replace("/", "_") + ".png")
        nb.page.screenshot(path=str(shot), full_page=True)
        problems = nb.problems()
        assert not problems, f"after Run All (screenshot {shot}):\n" + "\n".join(problems)
        unrun = nb.unexecuted_code_cells()
        assert not unrun, f"{path}: code cells {unrun} did not run (screenshot {shot})"
    finally:
        runs.close(path)
