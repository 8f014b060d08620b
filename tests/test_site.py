"""`make site`: the static HTML edition is complete and works with no network.

The site is built once (from the committed notebooks, nothing executed) into a
temporary folder; the checks then read the files. The last test opens a page in
headless Chromium, when it is installed, and checks that MathJax typeset the
equations from the site's own copy.
"""

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jupyter_server_mathjax") is None,
                                reason="the 'site' extra (jupyter-server-mathjax, MathJax for offline pages) "
                                       "is not installed: pip install -e '.[site]'")

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import build_site

    out = tmp_path_factory.mktemp("site") / "_site"
    build_site.build(out)
    return out


def _pages(site):
    return sorted(site.rglob("*.html"))


def test_every_notebook_has_a_page(site):
    for nb in CHAPTERS:
        assert (site / (nb.stem + ".html")).is_file(), f"no page for {nb.name}"
    for nb in SOLUTIONS:
        assert (site / "solutions" / (nb.stem + ".html")).is_file(), f"no page for solutions/{nb.name}"


def test_index_lists_every_chapter_with_summary(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    for nb in CHAPTERS:
        row = re.search(rf'<tr><td>\d+</td><td><a href="{nb.stem}\.html">(.+?)</tr>', index)
        assert row, f"index.html has no row for {nb.name}"
        assert re.search(r"</a></td><td>\w.{20,}?</td>", row.group(0)), f"{nb.name}: no summary in the index row"


def test_pages_reference_only_local_files(site):
    # Offline: every script, stylesheet and image a page loads is in the site itself (or inline data).
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        for attr, url in re.findall(r'<(?:script|img|link)[^>]*?\b(src|href)="([^"]+)"', text):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                continue
            assert not parsed.scheme and not url.startswith("//"), f"{page.name} loads {url} from the network"
            assert (page.parent / parsed.path).is_file(), f"{page.name} refers to {url}, which is not in the site"


def test_links_between_chapters_point_at_pages(site):
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        for url in re.findall(r'<a[^>]*href="([^"#]+)', text):
            if "://" in url or url.startswith("mailto:"):
                continue
            assert not url.endswith(".ipynb"), f"{page.name} links to the notebook {url}, not its page"
            assert (page.parent / url).is_file(), f"{page.name}: broken link {url}"


def _cell_html(text, cell_id):
    """The HTML of one cell, found by the id nbconvert gives it, up to the next cell."""
    start = text.index(f'id="cell-id={cell_id}"')
    nxt = text.find('<div class="jp-Cell ', start)
    return text[start:nxt if nxt > 0 else len(text)], text[nxt:] if nxt > 0 else ""


def test_explorers_show_their_still_and_caption(site):
    import nbformat

    for nb_path in CHAPTERS:
        nb = nbformat.read(nb_path, as_version=4)
        text = (site / (nb_path.stem + ".html")).read_text(encoding="utf-8")
        for i, cell in enumerate(nb.cells):
            if not any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", [])):
                continue
            html, rest = _cell_html(text, cell.id)
            assert re.search(r'<img[^>]+src="data:image/png;base64,', html), (
                f"{nb_path.stem}.html: the explorer in cell {i} shows no picture"
            )
            caption, _ = _cell_html(rest, re.search(r'id="cell-id=([^"]+)"', rest).group(1)) if rest else ("", "")
            assert "interactive" in caption.lower(), (
                f"{nb_path.stem}.html: no caption under the explorer of cell {i} saying it is interactive when run"
            )


def test_equations_render_offline(site):
    pw = pytest.importorskip("playwright.sync_api", reason="the 'browser' extra (playwright) is not installed")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            results = {}
            for chapter in CHAPTERS:   # every chapter page: each uses symbols the others do not
                page.goto((site / chapter.with_suffix(".html").name).as_uri())
                page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                                       "&& document.querySelectorAll('.MathJax, .MathJax_Display').length > 0",
                                       timeout=120_000)
                results[chapter.name] = page.evaluate("""() => ({
                    typeset: document.querySelectorAll('.MathJax, .MathJax_Display').length,
                    errors: [...document.querySelectorAll('.MathJax_Error, merror')].map(e => e.textContent.slice(0, 80)),
                    raw: document.querySelector('main').innerText.includes('$$')})""")
        finally:
            browser.close()
    for name, r in results.items():
        assert r["typeset"] > 20, f"{name}: only {r['typeset']} equations typeset"
        assert not r["errors"], f"{name}: {len(r['errors'])} equations failed to typeset: {r['errors'][:3]}"
        assert not r["raw"], f"{name}: raw $$ … $$ TeX is left on the page"
    remote = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    assert not remote, f"the page asked the network for {remote[:3]}"
