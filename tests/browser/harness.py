"""JupyterLab in headless Chromium: a throwaway server and the page helpers the browser tests share.

Reused by the notebook, explorer and slide tests here and by the JupyterHub
test (tests/hub/). Nothing in it touches the repository: the server runs on a
temporary copy of the notebooks, with its own settings, runtime, workspace,
config and data directories, on a free loopback port with a random token.

    with JupyterLabServer(ROOT / "notebooks") as lab, chromium() as browser:
        page = new_page(browser)
        nb = open_notebook(page, lab, "01_embeddings.ipynb")
        nb.run_all(); nb.wait_idle()
        assert not nb.problems()

Chromium is Debian's system browser (``/usr/bin/chromium``, or
``$LALIB_CHROMIUM``), driven through Playwright's Python package with
``executable_path``: ``playwright install`` downloads browsers and cannot work
offline, so it is never used.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("LALIB_CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium off the network and quiet in a container (no sandbox: CI runs as root).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 720}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# What a widget output shows when it cannot render (texts written by @jupyter-widgets/jupyterlab-manager).
WIDGET_FAILURES = ("Error displaying widget", "model not found", "Loading widget...")

# User settings for the throwaway server: no news or update pop-ups, and every cell kept in the DOM
# (JupyterLab 4 otherwise renders only the cells near the viewport, and the tests read all outputs).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def notebooks_dir() -> Path:
    """The notebooks under test: the repository's ``notebooks/``, or ``$LALIB_NOTEBOOKS`` (another copy)."""
    return Path(os.environ.get("LALIB_NOTEBOOKS") or Path(__file__).resolve().parents[2] / "notebooks")


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    problems = []
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("the `browser` extra (Playwright) is not installed: pip install -e '.[browser]'")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        problems.append("the `lab` extra (JupyterLab) is not installed: pip install -e '.[lab]'")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LALIB_CHROMIUM)")
    return "; ".join(problems) or None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLabServer:
    """A JupyterLab server on a temporary copy of ``notebooks``, stopped (kernels included) on exit.

    Parameters
    ----------
    notebooks : Path
        Directory copied into the server's root (as ``root/``); the original is never served.
    extra_env : dict, optional
        Added to the server's (and so the kernels') environment.
    startup_timeout : float
        Seconds to wait for the server to answer.

    Attributes
    ----------
    root : Path   the served copy; ``url`` the base URL; ``token``; ``pid`` the server's process id.
    """

    def __init__(self, notebooks: Path, *, extra_env: dict | None = None, startup_timeout: float = 90.0):
        self.source = Path(notebooks)
        self.extra_env = dict(extra_env or {})
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.tmp = None
        self.proc = None
        self.log_path = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="lalib-lab-"))
        self.root = self.tmp / "root"
        shutil.copytree(self.source, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        dirs = {name: self.tmp / name for name in ("settings", "workspaces", "runtime", "config", "data",
                                                  "ipython")}
        for d in dirs.values():
            d.mkdir()
        for rel, value in LAB_SETTINGS.items():
            path = dirs["settings"] / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value), encoding="utf-8")
        env = dict(os.environ)
        # A learner's environment: the Makefile's test switches do not reach the kernels.
        for name in ("MPLBACKEND", "TQDM_DISABLE", "JUPYTER_PATH", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(name, None)
        env.update({
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # a debugger warning ipykernel would print to stderr
        })
        env.update(self.extra_env)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--ServerApp.open_browser=False", "--ServerApp.allow_remote_access=False",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.expose_app_in_browser=True",
               # A fresh clone is untrusted: committed outputs show as a reader sees them (widget PNGs).
               "--NotebookNotary.db_file=:memory:",
               ]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")
        self.log_path = self.tmp / "server.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log()}")
            try:
                self.api("api/status")
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"JupyterLab did not answer on {self.url} within {self.startup_timeout} s:\n{self.log()}")

    def __exit__(self, *exc):
        self.stop()
        if self.tmp is not None and not os.environ.get("LALIB_KEEP_LAB"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def stop(self, timeout: float = 20.0):
        """Shut the server down through its API (it stops its kernels), then make sure by PID."""
        if self.proc is None:
            return
        children = []
        try:
            import psutil

            children = psutil.Process(self.pid).children(recursive=True)  # the kernels
        except Exception:
            pass
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.api("api/shutdown", method="POST")
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.kill(self.pid, signal.SIGKILL)
                    self.proc.wait()
        for child in children:  # by their own PIDs, never by name
            with contextlib.suppress(Exception):
                if child.is_running():
                    child.terminate()
                    child.wait(5)
        self._log.close()
        self.proc = None

    # -- helpers ---------------------------------------------------------------------------------------
    def api(self, path: str, method: str = "GET", body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""

    def lab_url(self, path: str = "", workspace: str | None = None) -> str:
        ws = f"workspaces/{workspace}/" if workspace else ""
        tree = f"tree/{path}" if path else ""
        return f"{self.url}lab/{ws}{tree}?reset&token={self.token}"

    def write_notebook(self, relpath: str, sources: list[str]) -> Path:
        """Write a scratch notebook (code cells ``sources``) into the served copy."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                     "name": "python3"}
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        return path


@contextlib.contextmanager
def chromium(headless: bool = True):
    """Debian's Chromium under Playwright, kept off the network."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=headless, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, viewport=VIEWPORT):
    """A page in a fresh context at 1280×720 that records console errors in ``page.console_errors``."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return page


# -- a notebook in the page ---------------------------------------------------------------------------------

_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# JavaScript run in the page: the current notebook's state, through the exposed application object.
_JS_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.context) return null;
  const model = w.context.model;
  const kernel = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return {path: w.context.path, dirty: model.dirty, kernel: kernel ? kernel.status : null,
          ready: w.context.isReady};
}"""


@dataclass
class Notebook:
    """The notebook open in ``page`` (the current document of the JupyterLab shell)."""

    page: object
    lab: JupyterLabServer
    path: str
    log: list = field(default_factory=list)

    @property
    def panel(self):
        return self.page.locator(_PANEL).first

    def state(self) -> dict:
        return self.page.evaluate(_JS_STATE)

    def command(self, name: str, args: dict | None = None, *, wait: bool = False):
        """Execute a JupyterLab command; ``wait`` for its promise (Run All's resolves when all cells ran)."""
        js = ("([n, a]) => window.jupyterapp.commands.execute(n, a)" if wait else
              "([n, a]) => { window.jupyterapp.commands.execute(n, a); }")
        self.page.evaluate(js, [name, args or {}])

    def wait_idle(self, timeout: float = 180.0, stable: float = 1.0):
        """Wait until the kernel is idle and no cell shows ``[*]``, continuously for ``stable`` seconds."""
        js = """() => {
          const p = document.querySelector('%s');
          if (!p) return false;
          const ind = p.querySelector('.jp-Notebook-ExecutionIndicator');
          if (!ind || ind.getAttribute('data-status') !== 'idle') return false;
          for (const e of p.querySelectorAll('.jp-InputPrompt'))
            if (e.textContent.includes('[*]')) return false;
          return true;
        }""" % _PANEL
        deadline = time.monotonic() + timeout
        since = None
        while True:
            ok = self.page.evaluate(js)
            now = time.monotonic()
            if ok:
                since = since or now
                if now - since >= stable:
                    return
            else:
                since = None
            if now > deadline:
                raise TimeoutError(f"{self.path}: kernel not idle after {timeout:.0f} s "
                                   f"(state {self.state()})")
            time.sleep(0.1)

    def shutdown_kernel(self):
        """Stop this notebook's kernel (frees its memory while other notebooks run)."""
        kid = self.page.evaluate("() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
                                 " return s.session && s.session.kernel ? s.session.kernel.id : null; }")
        if kid:
            with contextlib.suppress(OSError):
                self.lab.api(f"api/kernels/{kid}", method="DELETE")

    def run_all(self):
        self.command("notebook:run-all-cells")

    def save(self):
        """Save as Ctrl+S does, and return only when the server has written the file."""
        self.command("docmanager:save", wait=True)  # its promise resolves after the save completes
        self.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")

    def is_dirty(self) -> bool:
        tab_dirty = self.page.locator(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty").count() > 0
        return bool(self.state()["dirty"]) or tab_dirty

    def unexecuted_code_cells(self) -> list[int]:
        """Indices of non-empty code cells without an execution count (not run)."""
        return self.page.evaluate("""() => {
          const nb = window.jupyterapp.shell.currentWidget.content;
          const out = [];
          nb.widgets.forEach((c, i) => {
            if (c.model.type === 'code' && c.model.sharedModel.getSource().trim()
                && c.model.executionCount == null) out.push(i);
          });
          return out;
        }""")

    def outputs(self) -> list[dict]:
        """Every rendered output of every cell: cell index, mime types, text, images, size."""
        return self.page.evaluate("""() => {
          const nb = window.jupyterapp.shell.currentWidget.content;
          const out = [];
          nb.widgets.forEach((cell, i) => {
            if (cell.model.type !== 'code') return;
            const area = cell.outputArea;
            area.widgets.forEach((wrapper, k) => {
              const o = wrapper.node.querySelector('.jp-OutputArea-output');
              if (!o) return;
              const model = area.model.get(k);
              const imgs = [...o.querySelectorAll('img')].map(im => ({
                 complete: im.complete, nw: im.naturalWidth, nh: im.naturalHeight,
                 w: im.getBoundingClientRect().width, h: im.getBoundingClientRect().height}));
              const r = o.getBoundingClientRect();
              out.push({cell: i, mime: o.getAttribute('data-mime-type') || '',
                        kinds: model ? Object.keys(model.data) : [], type: model ? model.type : '',
                        text: (o.innerText || '').slice(0, 300), imgs,
                        svg: o.querySelectorAll('svg').length, w: r.width, h: r.height,
                        widget: !!o.querySelector('.jupyter-widgets, .widget-box')});
            });
          });
          return out;
        }""")

    def problems(self, *, committed: bool = False) -> list[str]:
        """Error / stderr outputs, widget rendering failures and blank outputs, as readable lines.

        ``committed``: the outputs are the committed ones, seen before running (an untrusted
        notebook): a widget output must then show its PNG fallback.
        """
        found = []
        for o in self.outputs():
            where = f"{self.path} cell {o['cell']}"
            if o["mime"] == "application/vnd.jupyter.stderr":
                found.append(f"{where}: error or stderr output: {o['text'][:200]!r}")
            if any(f in o["text"] for f in WIDGET_FAILURES):
                found.append(f"{where}: widget did not render: {o['text'][:120]!r}")
            visible = (o["text"].strip() or o["svg"] or o["widget"]
                       or any(im["complete"] and im["nw"] > 0 for im in o["imgs"]))
            closed_widget = not committed and WIDGET_MIME in o["kinds"] and o["w"] == 0 and o["h"] == 0
            if (not visible or o["h"] < 4) and not closed_widget:  # a finished progress bar is closed: no view
                found.append(f"{where}: blank output area ({o['mime'] or 'no mime'}, {o['w']:.0f}x{o['h']:.0f} px)")
            for im in o["imgs"]:
                if not im["complete"] or im["nw"] == 0:
                    found.append(f"{where}: image did not load ({o['mime']})")
            if committed and WIDGET_MIME in o["kinds"] and not any(im["nw"] > 0 for im in o["imgs"]):
                found.append(f"{where}: a committed widget output does not show its PNG still "
                             "(before the notebook runs, a reader must see the explorer's picture)")
        found += [f"{self.path}: console error: {e[:200]}" for e in self.page.console_errors
                  if "widget" in e.lower() or "model" in e.lower()]
        return found


def goto_notebook(page, lab: JupyterLabServer, path: str):
    """Start loading ``path`` (relative to the served root) in a fresh workspace; returns at once."""
    workspace = "t" + secrets.token_hex(4)
    page.goto(lab.lab_url(path, workspace=workspace), wait_until="commit")


def wait_notebook(page, lab: JupyterLabServer, path: str, *, timeout: float = 180.0) -> Notebook:
    """Wait until ``path`` is the open, loaded document and its kernel is idle."""
    page.wait_for_function(
        """(p) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   return !!(w && w.context && w.context.path === p && w.context.isReady); }""",
        arg=path, timeout=timeout * 1000)
    nb = Notebook(page, lab, path)
    page.wait_for_selector(f"{_PANEL} .jp-Notebook-ExecutionIndicator", timeout=timeout * 1000)
    nb.wait_idle(timeout)
    return nb


def open_notebook(page, lab: JupyterLabServer, path: str, *, timeout: float = 180.0) -> Notebook:
    """Open ``path`` (relative to the served root) in a fresh workspace and wait for its kernel."""
    goto_notebook(page, lab, path)
    return wait_notebook(page, lab, path, timeout=timeout)


# -- an explorer in the page --------------------------------------------------------------------------------

EXPLORER = ".lalib-explorer"
_CONTROLS = ".widget-slider, .widget-dropdown, .widget-checkbox"

_JS_CONTROLS = """(root) => [...root.querySelectorAll('%s')].map((c, i) => {
  const kind = c.classList.contains('widget-slider') ? 'slider'
             : c.classList.contains('widget-dropdown') ? 'dropdown' : 'checkbox';
  const label = (c.querySelector('.widget-label') || {}).textContent || '';
  let disabled, value;
  if (kind === 'slider') {
    disabled = c.querySelector('.noUi-target').hasAttribute('disabled');
    value = (c.querySelector('.widget-readout') || {}).textContent || '';
  } else if (kind === 'dropdown') {
    const s = c.querySelector('select'); disabled = s.disabled; value = s.value;
  } else {
    const b = c.querySelector('input'); disabled = b.disabled; value = String(b.checked);
  }
  return {index: i, kind, label: label.trim(), disabled, value};
})""" % _CONTROLS


@dataclass
class ExplorerView:
    """An explorer (``lalib.widgets.Explorer``) rendered in ``page``: its controls and its picture."""

    page: object
    root: object  # Locator of the explorer's outer box

    def controls(self) -> list[dict]:
        return self.root.evaluate(_JS_CONTROLS)

    def picture_src(self) -> str:
        return self.root.locator("img").first.get_attribute("src") or ""

    def picture_box(self) -> dict:
        return self.root.locator("img").first.evaluate(
            "im => ({w: im.getBoundingClientRect().width, h: im.getBoundingClientRect().height, "
            "nw: im.naturalWidth, nh: im.naturalHeight})")

    def move(self, control: dict) -> str:
        """Move one control as a person would; returns a description of what was done."""
        c = self.root.locator(_CONTROLS).nth(control["index"])
        kind = control["kind"]
        if kind == "slider":
            c.locator(".noUi-handle").first.click()
            self.page.keyboard.press("ArrowRight")
            if self.controls()[control["index"]]["value"] == control["value"]:  # at the maximum
                self.page.keyboard.press("ArrowLeft")
                self.page.keyboard.press("ArrowLeft")
            return f"slider '{control['label']}' {control['value']} -> {self.controls()[control['index']]['value']}"
        if kind == "dropdown":
            select = c.locator("select")
            options = select.evaluate("s => [...s.options].map(o => o.value)")
            new = options[(options.index(control["value"]) + 1) % len(options)]
            select.select_option(value=new)
            return f"dropdown '{control['label']}' {control['value']!r} -> {new!r}"
        c.locator("input").click()
        return f"checkbox '{control['label']}' {control['value']} -> {not control['value'] == 'true'}"

    def wait_picture_change(self, before: str, timeout: float = 90.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.picture_src() not in ("", before):
                return True
            time.sleep(0.1)
        return False


def find_explorer(page, timeout: float = 120.0) -> ExplorerView:
    root = page.locator(EXPLORER).first
    root.wait_for(state="visible", timeout=timeout * 1000)
    page.wait_for_function("(sel) => { const im = document.querySelector(sel + ' img');"
                           " return im && im.complete && im.naturalWidth > 0; }", arg=EXPLORER,
                           timeout=timeout * 1000)
    return ExplorerView(page, root)

