"""The set-up files agree with each other and with what the README promises."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _name(requirement: str) -> str:
    """'numpy>=1.24' -> 'numpy'; normalise '_' and '-' as pip does."""
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_deps():
    deps = []
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.\-]+.*)$", line)
        if m and not line.strip().startswith("- conda-forge"):
            deps.append(m.group(1).strip())
    return deps


def test_environment_yml_has_the_runtime_dependencies_of_pyproject():
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    conda = {_name(d) for d in _conda_deps()}
    missing = runtime - conda
    assert not missing, f"environment.yml lacks runtime dependencies {sorted(missing)} listed in pyproject.toml"
    lab = {_name(r) for r in _pyproject()["project"]["optional-dependencies"]["lab"]}
    extra = conda - runtime - lab - {"python", "pip"}
    assert not extra, f"environment.yml has packages {sorted(extra)} that pyproject.toml does not list"


def test_lower_bounds_agree():
    bounds = {_name(r): r.split(">=")[1] for r in _pyproject()["project"]["dependencies"] if ">=" in r}
    for dep in _conda_deps():
        if _name(dep) in bounds:
            assert ">=" in dep and dep.split(">=")[1] == bounds[_name(dep)], (
                f"environment.yml has {dep!r}, pyproject.toml has >={bounds[_name(dep)]}"
            )


def test_no_exact_pins_in_environment_yml():
    for dep in _conda_deps():
        assert "==" not in dep and not re.match(r"^[a-z\-]+=[0-9]", dep), f"pinned: {dep!r}"


def test_python_floor():
    assert _pyproject()["project"]["requires-python"] == ">=3.10"
    assert any(d.startswith("python>=3.10") for d in _conda_deps())


def test_postbuild_installs_lalib_without_deps():
    text = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in text


def test_ci_runs_make_test():
    lines = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert "make test" in lines, lines


def test_readme_chapter_map_matches_the_notebooks():
    readme = (ROOT / "README.md").read_text()
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    linked = sorted(set(re.findall(r"notebooks/([0-9]{2}_[a-z_]+\.ipynb)", readme)))
    assert linked == chapters, f"README links {linked}, notebooks/ has {chapters}"
    assert "10.1007/s11075-025-02218-2" in readme
    for command in ("make lab", "make test", "conda env create -f environment.yml"):
        assert command in readme, f"README should show `{command}`"


def test_importing_lalib_is_cheap():
    """The kernels must not pull in matplotlib or ipywidgets (DESIGN: the arrows go one way)."""
    import subprocess

    code = (
        "import sys, lalib, importlib, pkgutil\n"
        "kernels = [m.name for m in pkgutil.iter_modules(lalib.__path__) "
        "if m.name not in ('plotting', 'widgets', 'exercises')]\n"
        "[importlib.import_module('lalib.' + k) for k in kernels]\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"kernel modules import {out.stdout.strip()}"
