"""Every chapter presents as slides (jupyterlab-rise) that fit a 1280×720 screen.

Run alone with ``make test-slides`` (pytest marker ``slides``). For each
chapter notebook (discovered), the standalone RISE presenter
(``/rise/<notebook>``) is opened at 1280×720 with the committed outputs, and
the test presses Space through every slide, sub-slide and fragment. At every
step the slide on screen must fit the viewport: its content may not extend
below the bottom edge (nor above the top), and a fragment that has just
appeared must be on screen. A failure names the chapter, the slide
(``h.v`` as in RISE's URL), the cell (notebook index and first line) and the
height the slide needs.
"""

import time
from pathlib import Path

import pytest

from harness import VIEWPORT, new_page, notebooks_dir

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.name for p in notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
MAX_STEPS = 600

pytestmark = pytest.mark.slides

# The slide on screen: its id, how much of it lies outside the viewport, the cells that overflow,
# the fragments shown so far, and whether the newest fragment is on screen.
_JS_SLIDE = """() => {
  const all = [...document.querySelectorAll('.reveal .slides section.present')];
  const s = all.filter(e => !e.classList.contains('stack')).pop() || all.pop();
  if (!s) return null;
  const H = window.innerHeight, r = s.getBoundingClientRect();
  const scale = r.height / (s.offsetHeight || 1);
  const bottom = r.top + s.scrollHeight * scale;
  const cells = [...s.querySelectorAll('.jp-Cell')].filter(c => c.offsetParent !== null);
  const over = cells.filter(c => { const b = c.getBoundingClientRect(); return b.bottom > H + 1 || b.top < -1; })
    .map(c => ({index: c.getAttribute('data-windowed-list-index'),
                text: (c.querySelector('.jp-RenderedMarkdown') || c.querySelector('.cm-line') || c.querySelector('.jp-OutputArea') || c).innerText
                      .trim().split('\\n')[0].slice(0, 70),
                bottom: Math.round(c.getBoundingClientRect().bottom)}));
  const frags = s.querySelectorAll('.fragment.visible').length;
  const cur = s.querySelector('.fragment.current-fragment');
  const fb = cur ? cur.getBoundingClientRect() : null;
  return {id: s.id, top: Math.round(r.top), bottom: Math.round(bottom), height: Math.round(s.scrollHeight * scale),
          over, frags, fragOff: fb ? (fb.bottom > H + 1 || fb.top < -1) : false,
          ncells: cells.length};
}"""


def _settled(page, timeout=10.0):
    """The slide's geometry once transitions have finished (two equal readings in a row)."""
    last, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = page.evaluate(_JS_SLIDE)
        if now is not None and now == last:
            return now
        last = now
        time.sleep(0.15)
    return last


def walk_slides(page, lab, chapter):
    """Step through every slide and fragment of ``chapter``; returns (steps, overflowing slides)."""
    page.goto(f"{lab.url}rise/{chapter}?token={lab.token}")
    page.wait_for_selector(".reveal .slides section.present", timeout=180_000)
    page.wait_for_timeout(1000)  # equations and images settle
    H = VIEWPORT["height"]
    failures, seen, steps = {}, set(), []
    state = _settled(page)
    for _ in range(MAX_STEPS):
        key = (state["id"], state["frags"])
        if key in seen:
            break  # Space no longer moves: the end of the show
        seen.add(key)
        steps.append(state)
        if state["bottom"] > H + 1 or state["top"] < -1 or state["fragOff"]:
            slide = state["id"].replace("slide-", "").replace("-", ".")
            cells = "; ".join(f"cell {c['index']} ({c['text']!r}) reaches {c['bottom']} px" for c in state["over"])
            failures.setdefault(state["id"], f"{chapter} slide {slide}: needs {state['height']} px of {H} "
                                               f"(top {state['top']}, bottom {state['bottom']}): {cells or 'content'}")
        page.keyboard.press("Space")
        state = _settled(page)
    return steps, list(failures.values())


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_slide_fits_1280x720(lab, browser, chapter, screenshots):
    page = new_page(browser)
    try:
        steps, failures = walk_slides(page, lab, chapter)
        assert len(steps) > 1, f"{chapter}: the slideshow did not advance"
        assert not failures, (f"{chapter}: {len(failures)} of {len({s['id'] for s in steps})} slides overflow "
                              "1280x720:\n" + "\n".join(failures))
    finally:
        page.context.close()
