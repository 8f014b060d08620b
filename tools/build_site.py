"""Build the static HTML edition of the series into ``_site/`` (``make site``).

Every chapter and solutions notebook is converted from its committed, executed
form — nothing is run, nothing is downloaded:

* equations are typeset by a copy of MathJax that ships inside the
  ``jupyter-server-mathjax`` package (installed by ``make site``), copied into
  ``_site/mathjax/`` and loaded by a relative path, so a page renders offline;
* explorers show the PNG still that every explorer carries in its display
  bundle (committed notebooks hold no widget state, so the converter falls back
  to the picture), followed by the caption cell that says it is interactive;
* links between notebooks (``01_embeddings.ipynb``) point at the HTML pages;
* an index page gives the chapter map: each chapter's title, what it shows
  (the README's chapter map) and the chapters it builds on (the chapter links
  in its opening cells), with previous/next links on every page.

Usage: ``python tools/build_site.py [--out _site]``.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "site_templates"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
CHAPTER_LINK = re.compile(r"\((?:\.\./)?(?:solutions/)?(\d\d_[\w]+)\.ipynb\)")


@dataclass
class Page:
    notebook: Path          # the .ipynb
    html_path: str          # relative to the site root, e.g. "03_attention_transformers.html"
    title: str
    number: str             # "3", or "" for a solutions notebook
    summary: str = ""
    builds_on: list[str] = field(default_factory=list)   # stems of earlier chapters
    solutions: "Page | None" = None


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "untitled"


def _readme_summaries() -> dict[str, str]:
    """The 'what it shows' column of the README's chapter map, by notebook stem."""
    table = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*\d+\s*\|\s*\[[^\]]+\]\(notebooks/(\d\d_\w+)\.ipynb\)\s*\|\s*(.+?)\s*\|\s*$", line)
        if m:
            table[m.group(1)] = m.group(2)
    return table


def _builds_on(nb, stem: str) -> list[str]:
    """Earlier chapters linked from the opening cells ('What you need first')."""
    opening = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    found = []
    for s in CHAPTER_LINK.findall(opening):
        if s != stem and s < stem and s not in found:
            found.append(s)
    return found


def collect_pages(notebook_dir: Path) -> list[Page]:
    """Chapters in order, each followed by its solutions notebook when there is one."""
    summaries = _readme_summaries()
    pages = []
    for path in sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        page = Page(path, path.stem + ".html", _title(nb), str(int(path.stem[:2])),
                    summaries.get(path.stem, ""), _builds_on(nb, path.stem))
        sol = notebook_dir / "solutions" / (path.stem + "_solutions.ipynb")
        pages.append(page)
        if sol.exists():
            page.solutions = Page(sol, f"solutions/{sol.stem}.html", _title(nbformat.read(sol, as_version=4)), "")
            pages.append(page.solutions)
    return pages


def _nav(pages: list[Page], i: int) -> str:
    up = "../" * pages[i].html_path.count("/")

    def link(j, arrow_left):
        if j < 0 or j >= len(pages):
            return "<span></span>"
        text = html.escape(pages[j].title)
        return f'<a href="{up}{pages[j].html_path}">{"← " + text if arrow_left else text + " →"}</a>'

    return (f'<nav class="lalib-nav">{link(i - 1, True)}'
            f'<a class="lalib-nav-index" href="{up}index.html">Contents</a>{link(i + 1, False)}</nav>')


def _relink(body: str, depth: int) -> str:
    """Links to notebooks of the series become links to their pages."""
    def repl(m):
        target = m.group(2)
        if "://" in target:
            return m.group(0)
        return f'{m.group(1)}{target[:-len(".ipynb")]}.html{m.group(3)}'
    return re.sub(r'(href=")([^"#]+?\.ipynb)((?:#[^"]*)?")', repl, body)


def convert(pages: list[Page], out: Path) -> None:
    exporter = HTMLExporter(template_name="lalib_site", extra_template_basedirs=[str(TEMPLATES)])
    for i, page in enumerate(pages):
        depth = page.html_path.count("/")
        exporter.mathjax_url = "../" * depth + f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"
        nb = nbformat.read(page.notebook, as_version=4)
        body, _ = exporter.from_notebook_node(nb, resources={"lalib_nav": _nav(pages, i)})
        target = out / page.html_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_relink(body, depth), encoding="utf-8")


def write_index(pages: list[Page], out: Path) -> None:
    chapters = [p for p in pages if p.number]
    by_stem = {p.notebook.stem: p for p in chapters}
    rows = []
    for p in chapters:
        builds = ", ".join(f'<a href="{by_stem[s].html_path}">{by_stem[s].number}</a>'
                           for s in p.builds_on if s in by_stem) or "—"
        sol = f'<a href="{p.solutions.html_path}">solutions</a>' if p.solutions else ""
        rows.append(f"<tr><td>{p.number}</td><td><a href=\"{p.html_path}\">{html.escape(p.title)}</a></td>"
                    f"<td>{html.escape(p.summary)}</td><td>{builds}</td><td>{sol}</td></tr>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>lalib — the linear algebra of deep learning</title>
<style>
 body {{ font: 16px/1.5 sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ text-align: left; vertical-align: top; padding: 0.45em 0.6em; border-bottom: 1px solid #ddd; }}
 th {{ background: #f2f2f5; }}
 a {{ color: #1a5fb4; text-decoration: none; }}
</style></head>
<body>
<h1>The linear algebra of deep learning</h1>
<p>A course in notebooks that shows how deep learning is built out of linear algebra: embeddings, MLPs and
backpropagation, attention and its linear-time variants, low-rank methods and LoRA, graph neural networks, and
the numerical linear algebra underneath. It follows A. Baggag and Y. Saad, <em>Deep learning, transformers and
graph neural networks: a linear algebra perspective</em>, Numerical Algorithms 100 (2025) 2095–2134,
doi:10.1007/s11075-025-02218-2.</p>
<p>These pages are the notebooks as committed, already executed. The pictures under the explorers are stills:
run the notebooks in JupyterLab or on Binder to move their controls.</p>
<table>
<tr><th>#</th><th>chapter</th><th>what it shows</th><th>builds on</th><th></th></tr>
{chr(10).join(rows)}
</table>
</body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")


def copy_mathjax(out: Path) -> None:
    try:
        import jupyter_server_mathjax
    except ImportError:
        sys.exit("make site needs the 'site' extra (pip install -e '.[site]'): it ships MathJax for offline pages")
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    # Only what the TeX → HTML-CSS configuration loads; the translations are not needed.
    shutil.copytree(static, out / "mathjax", ignore=shutil.ignore_patterns("localization"))


def build(out: Path, notebook_dir: Path = ROOT / "notebooks") -> list[Page]:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pages = collect_pages(notebook_dir)
    copy_mathjax(out)
    convert(pages, out)
    write_index(pages, out)
    return pages


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_site"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pages = build(Path(args.out))
    size = sum(f.stat().st_size for f in Path(args.out).rglob("*") if f.is_file())
    print(f"{len(pages)} pages and index.html in {args.out} ({size / 1e6:.1f} MB) "
          f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
