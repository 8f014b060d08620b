"""Every explorer in lalib.widgets, moved by hand in JupyterLab.

Explorers are discovered (public functions of lalib.widgets whose name ends in
``_explorer``), so a new one is covered without editing this file. Each is
created with its defaults in a scratch notebook; then every control that is
enabled in the current state is moved as a person would (click the slider
handle and press an arrow key, choose the next option of a dropdown, click a
checkbox), and the picture must change each time. A control that is disabled
is skipped; more rounds follow, in which dropdowns move on to their next option
and the controls not yet moved are tried again, until every control has been
moved once: a control that is never enabled fails.
The explorer, controls and picture, must fit a 1280×720 window, and its
picture must be rendered at (at least) twice the size it is shown, so it stays
sharp on a projector and a high-density screen. A screenshot of the explorer
after each change goes to the screenshot folder; failures name it.
"""

import inspect

import pytest

import lalib.widgets
from harness import VIEWPORT, find_explorer, goto_notebook, new_page, wait_notebook

EXPLORERS = sorted(name for name, f in inspect.getmembers(lalib.widgets, inspect.isfunction)
                   if name.endswith("_explorer") and not name.startswith("_") and f.__module__ == "lalib.widgets")
MAX_ROUNDS = 4


def test_there_are_explorers():
    assert EXPLORERS, "no *_explorer functions found in lalib.widgets"


@pytest.fixture(scope="module")
def explorer_notebooks(lab, browser):
    """Every explorer in its own scratch notebook and page, all loading and running at once."""
    pages = {}
    for name in EXPLORERS:
        lab.write_notebook(f"scratch/{name}.ipynb", [f"from lalib import widgets\nwidgets.{name}()"])
        pages[name] = page = new_page(browser)
        goto_notebook(page, lab, f"scratch/{name}.ipynb")
    notebooks = {}
    for name, page in pages.items():
        nb = notebooks[name] = wait_notebook(page, lab, f"scratch/{name}.ipynb")
        if page.locator("#jp-left-stack:not(.lm-mod-hidden)").count():
            nb.command("application:toggle-left-area")  # as a presenter would: the explorer gets the width
        nb.run_all()
    yield notebooks
    for nb in notebooks.values():
        nb.shutdown_kernel()
        nb.page.context.close()


@pytest.mark.parametrize("name", EXPLORERS)
def test_explorer_responds_to_every_enabled_control_and_fits(explorer_notebooks, name, screenshots):
    nb = explorer_notebooks[name]
    page = nb.page
    # All explorers load at once: on a busy machine a kernel can still be starting when Run All is
    # issued, and JupyterLab then runs nothing. Wait for the kernel, and run again what did not run.
    nb.wait_idle(600)
    if nb.unexecuted_code_cells():
        nb.run_all()
        nb.wait_idle(600)
    ex = find_explorer(page, timeout=300)
    nb.wait_idle()
    shots = []

    def shot(label):
        p = screenshots / f"{name}-{len(shots):02d}-{label}.png"
        ex.root.screenshot(path=str(p))
        shots.append(p)
        return p

    first = shot("start")
    problems = nb.problems()
    assert not problems, f"{name} (screenshot {first}):\n" + "\n".join(problems)

    box = ex.root.bounding_box()
    assert box["width"] <= VIEWPORT["width"] and box["height"] <= VIEWPORT["height"], (
        f"{name} is {box['width']:.0f}x{box['height']:.0f} px; it must fit {VIEWPORT['width']}x"
        f"{VIEWPORT['height']} with its controls (screenshot {first})")
    overflow = ex.root.evaluate("r => r.closest('.jp-OutputArea-output').scrollWidth"
                                " - r.closest('.jp-OutputArea-output').clientWidth")
    assert overflow <= 1, f"{name} is {overflow} px wider than the notebook's output area (screenshot {first})"
    pic = ex.picture_box()
    assert pic["nw"] >= 1.9 * pic["w"] and pic["nh"] >= 1.9 * pic["h"], (
        f"{name}: picture is {pic['nw']}x{pic['nh']} px shown at {pic['w']:.0f}x{pic['h']:.0f}; render it at "
        f"twice the size shown so it is sharp on a projector (screenshot {first})")

    moved, seen = set(), {}
    for rnd in range(MAX_ROUNDS):
        for i in range(len(ex.controls())):
            control = ex.controls()[i]  # read now: moving an earlier control may have enabled or disabled it
            key = (control["index"], control["label"])
            seen[key] = control
            # after the first round, only dropdowns move again (to their next option), to reach the states
            # in which the controls still unmoved are enabled
            if control["disabled"] or (rnd > 0 and key in moved and control["kind"] != "dropdown"):
                continue
            before = ex.picture_src()
            what = ex.move(control)
            changed = ex.wait_picture_change(before)
            nb.wait_idle()
            p = shot(f"{control['kind']}{control['index']}")
            assert changed, f"{name}: the picture did not change after {what} (screenshot {p})"
            moved.add(key)
            problems = nb.problems()
            assert not problems, f"{name} after {what} (screenshot {p}):\n" + "\n".join(problems)
        if set(seen) <= moved:
            break
    never = [seen[k]["label"] or f"control {k[0]}" for k in seen if k not in moved]
    assert not never, (f"{name}: controls {never} were disabled in every state tried; a control that never "
                       f"applies should not be there (screenshots {shots[0].parent})")
