"""deploy/jupyterhub: the nbgitpuller link recipe and the two deployment files agree."""

import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "jupyterhub"
sys.path.insert(0, str(DEPLOY))

from nbgitpuller_link import nbgitpuller_link  # noqa: E402


def test_link_opens_the_chapter_in_lab():
    link = nbgitpuller_link("https://hub.example.edu/", "https://github.com/o/lalib", branch="main",
                            chapter="03_attention_transformers.ipynb")
    url = urlparse(link)
    assert (url.scheme, url.netloc, url.path) == ("https", "hub.example.edu", "/hub/user-redirect/git-pull")
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q == {"repo": "https://github.com/o/lalib", "branch": "main", "targetpath": "lalib",
                 "urlpath": "lab/tree/lalib/notebooks/03_attention_transformers.ipynb"}


def test_link_keeps_a_path_prefix_and_defaults_to_the_folder():
    link = nbgitpuller_link("https://uni.example.edu/jupyter", "https://github.com/o/lalib")
    assert link.startswith("https://uni.example.edu/jupyter/hub/user-redirect/git-pull?")
    assert "urlpath=lab%2Ftree%2Flalib%2Fnotebooks&" in link + "&"


@pytest.mark.parametrize("kwargs, match", [
    (dict(hub_url="hub.example.edu", repo="r"), "hub_url must start with"),
    (dict(hub_url="https://h", repo=""), "repo, branch and target"),
    (dict(hub_url="https://h", repo="r", target="a/b"), "target a plain folder name"),
])
def test_link_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nbgitpuller_link(**kwargs)


def test_hub_config_compiles_and_both_deployments_set_the_same_limits():
    config = (DEPLOY / "jupyterhub_config.py").read_text(encoding="utf-8")
    compile(config, "jupyterhub_config.py", "exec")
    values = (DEPLOY / "z2jh-values.yaml").read_text(encoding="utf-8")
    mem = dict(re.findall(r"c\.Spawner\.mem_(guarantee|limit) = \"(\w+)\"", config))
    cpu = dict(re.findall(r"c\.Spawner\.cpu_(guarantee|limit) = ([\d.]+)", config))
    memory_block = values.split("memory:", 1)[1].split("cpu:", 1)[0]
    cpu_block = values.split("cpu:", 1)[1].split("storage:", 1)[0]
    assert mem and cpu, "jupyterhub_config.py sets no memory or CPU limits"
    for key in ("guarantee", "limit"):
        assert re.search(rf"{key}:\s*{mem[key]}\b", memory_block), f"memory {key} differs: {mem[key]}"
        assert float(re.search(rf"{key}:\s*([\d.]+)", cpu_block).group(1)) == float(cpu[key]), f"cpu {key} differs"
    assert "nbgitpuller" in (ROOT / "environment.yml").read_text(), "the single-user image needs nbgitpuller"
