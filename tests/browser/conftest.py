"""Browser-suite fixtures: one JupyterLab server and one Chromium for the whole session.

Every test here is skipped, with the reason, when Chromium or the `browser` /
`lab` extras are missing (``pytest -ra`` lists the reason); they are never
silently absent. Screenshots go to a temporary folder (``$LALIB_SCREENSHOTS``
to choose it) whose path failure messages name.
"""

import os
import tempfile
from pathlib import Path

import pytest

from harness import JupyterLabServer, chromium, missing_requirements, notebooks_dir

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = notebooks_dir()
REASON = missing_requirements()


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if REASON:
                item.add_marker(pytest.mark.skip(reason=f"browser tests cannot run here: {REASON}"))


@pytest.fixture(scope="session")
def lab():
    with JupyterLabServer(NOTEBOOKS) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def screenshots():
    path = Path(os.environ.get("LALIB_SCREENSHOTS") or tempfile.mkdtemp(prefix="lalib-screens-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser):
    from harness import new_page

    p = new_page(browser)
    yield p
    p.context.close()
