"""A class on a real JupyterHub: two students pull the series with nbgitpuller and run chapter 0.

A JupyterHub (dummy authenticator, local-process spawner, configurable-http-proxy)
runs on loopback ports in a temporary directory. The source of the nbgitpuller
link is a local clone of this repository, so nothing leaves the machine. With
Playwright in Chromium (the browser suite's harness), each student logs in,
opens the link, sees chapter 0 open in JupyterLab, runs it to the end without
errors and moves an explorer control; then the test checks that each copy lives
in its student's own home and that a student's edit survives a second pull that
brings a new upstream commit (nbgitpuller's merge). It reports the memory of each
student's server (server and kernel) after Run All, which deploy/jupyterhub sizes
its limits from. Everything it started is stopped by PID at the end.

Skipped, with the reason, where its parts cannot be installed (``make test``
installs them: the `hub`, `lab` and `browser` extras, and configurable-http-proxy
from the npm registry).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))

from harness import (LAB_SETTINGS, Notebook, chromium, find_explorer, free_port,  # noqa: E402
                     missing_requirements, new_page)
from nbgitpuller_link import nbgitpuller_link  # noqa: E402

CHAPTER = "00_linear_algebra_toolkit.ipynb"
STUDENTS = ("alice", "bob")
TARGET = "lalib"


def _proxy_command() -> str | None:
    """configurable-http-proxy: on PATH, or where `make test-hub` installs it (.venv/node)."""
    local = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    return shutil.which("configurable-http-proxy") or (str(local) if local.exists() else None)


def _missing() -> str | None:
    problems = []
    for module, extra in (("jupyterhub", "hub"), ("nbgitpuller", "hub")):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} is not installed (pip install -e '.[{extra}]')")
    if _proxy_command() is None:
        problems.append("configurable-http-proxy is not installed (npm install configurable-http-proxy)")
    if shutil.which("git") is None:
        problems.append("git is not installed")
    browser = missing_requirements()
    if browser:
        problems.append(browser)
    return "; ".join(problems) or None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=f"the hub test cannot run here: {_missing()}")


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def _pids_of_user(name: str, home: Path) -> list[int]:
    """Processes started for one hub user (server and kernels), found by the environment the hub gave them."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"JUPYTERHUB_USER={name}".encode() in env and f"HOME={home}".encode() in env:
            pids.append(int(proc.name))
    return pids


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class Hub:
    """JupyterHub on loopback ports in ``tmp``; students' homes are ``tmp/home/<name>``."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.homes = tmp / "home"
        self.proc = None

    def config(self) -> str:
        venv_bin = Path(sys.executable).parent
        settings = {rel: value for rel, value in LAB_SETTINGS.items()}
        return f"""
import json, os
from pathlib import Path

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {self.hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.api_port}"
c.ConfigurableHTTPProxy.command = [{_proxy_command()!r}]
c.JupyterHub.db_url = "sqlite:///{self.tmp / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = "{self.tmp / 'cookie_secret'}"
c.JupyterHub.pid_file = "{self.tmp / 'hub.pid'}"
c.JupyterHub.authenticator_class = "dummy"          # any name, any password: a test only
c.JupyterHub.spawner_class = "simple"              # local processes, one home per user: a test only
c.SimpleLocalProcessSpawner.home_dir_template = "{self.homes}/{{username}}"
c.Spawner.cmd = ["{venv_bin / 'jupyterhub-singleuser'}"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# git for nbgitpuller; the offline guard (PYTHONPATH) for every server and kernel.
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "JUPYTERHUB_SINGLEUSER_APP"]
c.Spawner.args = [
    "--LabApp.expose_app_in_browser=True",            # the harness drives JupyterLab through window.jupyterapp
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
] + (["--allow-root"] if os.getuid() == 0 else [])

SETTINGS = {json.dumps(settings)!r}

def _settings_dir(spawner):
    # Throwaway JupyterLab settings per student: no news or update pop-ups, every cell in the DOM.
    d = Path("{self.tmp}") / "lab-settings" / spawner.user.name
    for rel, value in json.loads(SETTINGS).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(json.dumps(value))
    return str(d)

c.Spawner.environment = {{
    "JUPYTERLAB_SETTINGS_DIR": _settings_dir,
    "JUPYTERLAB_WORKSPACES_DIR": lambda s: str(Path("{self.tmp}") / "lab-workspaces" / s.user.name),
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}}
"""

    def __enter__(self):
        cfg = self.tmp / "jupyterhub_config.py"
        cfg.write_text(self.config(), encoding="utf-8")
        self.log_path = self.tmp / "hub.log"
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(cfg)],
                                     cwd=self.tmp, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with code {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5) as r:
                    if r.status == 200:
                        return self
            if time.monotonic() > deadline:
                self.__exit__()
                raise TimeoutError(f"JupyterHub did not answer on {self.url}:\n{self.log()}")
            time.sleep(0.5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def __exit__(self, *exc):
        # The hub stops the students' servers and the proxy when it is told to stop (SIGTERM);
        # whatever is left is stopped by its own PID.
        started = [pid for name in STUDENTS for pid in _pids_of_user(name, self.homes / name)]
        proxy_pid_file = self.tmp / "jupyterhub-proxy.pid"
        if proxy_pid_file.exists():
            with contextlib.suppress(ValueError):
                started.append(int(proxy_pid_file.read_text().strip()))
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()
        return False


def _log_in(page, hub: Hub, name: str):
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", "any password")
    page.click("#login_submit")
    page.wait_for_url(lambda url: "/hub/login" not in url, timeout=60_000)


def _open_link(page, link: str, path: str) -> Notebook:
    """Follow the nbgitpuller link and wait for the chapter to be open in JupyterLab with its kernel idle."""
    page.goto(link)
    page.wait_for_function(
        """(p) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   return !!(w && w.context && w.context.path === p && w.context.isReady); }""",
        arg=path, timeout=240_000)
    nb = Notebook(page, None, path)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator", timeout=120_000)
    nb.wait_idle(180)
    return nb


def test_a_class_pulls_and_runs_the_series(tmp_path_factory, capsys):
    tmp = Path(tempfile.mkdtemp(prefix="lalib-hub-"))
    screens = tmp_path_factory.mktemp("hub-screens")
    source = tmp / "source"
    _git("clone", "--quiet", "--no-hardlinks", str(ROOT), str(source), cwd=tmp)
    _git("checkout", "-q", "-B", "main", cwd=source)     # the branch the students follow
    link = lambda hub: nbgitpuller_link(hub.url, f"file://{source}", branch="main", chapter=CHAPTER,  # noqa: E731
                                        target=TARGET)
    path = f"{TARGET}/notebooks/{CHAPTER}"
    memory = {}
    try:
        with Hub(tmp) as hub, chromium() as browser:
            pages = {}
            for name in STUDENTS:
                page = new_page(browser)
                pages[name] = page
                _log_in(page, hub, name)
                nb = _open_link(page, link(hub), path)
                page.screenshot(path=str(screens / f"{name}-opened.png"))
                assert not nb.problems(committed=True), nb.problems(committed=True)
                nb.run_all()
                nb.wait_idle(300)
                problems = nb.problems()
                assert not problems, f"{name}: chapter 0 after Run All: {problems} (screens in {screens})"
                assert not nb.unexecuted_code_cells(), f"{name}: cells not run: {nb.unexecuted_code_cells()}"
                memory[name] = _rss_mib(_pids_of_user(name, hub.homes / name))

                explorer = find_explorer(page)
                explorer.root.scroll_into_view_if_needed()
                control = next(c for c in explorer.controls() if not c["disabled"])
                before = explorer.picture_src()
                did = explorer.move(control)
                changed = explorer.wait_picture_change(before)
                page.screenshot(path=str(screens / f"{name}-explorer.png"))
                assert changed, f"{name}: {did}, but the picture did not change (screens in {screens})"

            # Each student's copy is in their own home.
            copies = {name: hub.homes / name / path for name in STUDENTS}
            for name, copy in copies.items():
                assert copy.is_file(), f"{name}'s copy is not at {copy}"
                assert (hub.homes / name / TARGET / ".git").is_dir(), f"{name}'s copy is not a git clone"

            # Alice writes a note at the top of the chapter and saves it ...
            alice = Notebook(pages["alice"], None, path)
            pages["alice"].evaluate("""() => {
                const nb = window.jupyterapp.shell.currentWidget.content;
                nb.model.sharedModel.insertCell(0, {cell_type: 'markdown', source: 'My notes: Q is orthogonal.'});
            }""")
            alice.save()
            # ... the lecturer pushes a new commit ...
            (source / "ANNOUNCEMENT.md").write_text("Exercise 2 is due on Friday.\n")
            _git("add", "ANNOUNCEMENT.md", cwd=source)
            _git("-c", "user.name=Lecturer", "-c", "user.email=lecturer@example.edu",
                 "commit", "-q", "-m", "Announcement", cwd=source)
            # ... and Alice clicks the link again: the new commit arrives, her note stays.
            _open_link(pages["alice"], link(hub), path)
            mine = nbformat.read(copies["alice"], as_version=4)
            assert mine.cells[0].source == "My notes: Q is orthogonal.", "Alice's edit did not survive the pull"
            assert (hub.homes / "alice" / TARGET / "ANNOUNCEMENT.md").is_file(), "the second pull brought nothing"
            theirs = nbformat.read(copies["bob"], as_version=4)
            assert not any("My notes" in c.source for c in theirs.cells), "Bob's copy changed with Alice's"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with capsys.disabled():
        print("\nmemory of each student's server (server + kernel) after Run All of chapter 0: "
              + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in memory.items())
              + f"; screenshots in {screens}")
