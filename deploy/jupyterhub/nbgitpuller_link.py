"""Build the nbgitpuller link that puts the series into every student's home on a JupyterHub.

    python deploy/jupyterhub/nbgitpuller_link.py https://hub.example.edu \\
        https://github.com/<owner>/lalib --chapter 03_attention_transformers.ipynb

A student who opens the link logs in (if not already), gets a single-user
server, and nbgitpuller clones the repository into ``~/lalib`` — or, on later
clicks, pulls the new commits and merges them with the student's own edits,
which are kept — and then opens the chapter in JupyterLab.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlencode


def nbgitpuller_link(hub_url: str, repo: str, *, branch: str = "main", chapter: str | None = None,
                     target: str = "lalib") -> str:
    """The ``/hub/user-redirect/git-pull`` address for ``repo`` at ``branch``, opening ``chapter`` in JupyterLab.

    Parameters
    ----------
    hub_url : str
        The hub's public address, e.g. ``https://hub.example.edu`` (a path prefix is kept).
    repo : str
        What ``git clone`` is given: the repository's address.
    branch : str
        The branch students follow.
    chapter : str, optional
        A notebook in ``notebooks/`` to open, e.g. ``00_linear_algebra_toolkit.ipynb``; default: the folder.
    target : str
        The folder in each student's home that holds the copy.
    """
    if not hub_url.startswith(("http://", "https://")):
        raise ValueError(f"hub_url must start with http:// or https://; got {hub_url!r}")
    if not repo or not branch or not target or "/" in target:
        raise ValueError(f"repo, branch and target must be non-empty and target a plain folder name; "
                         f"got repo={repo!r}, branch={branch!r}, target={target!r}")
    path = f"lab/tree/{target}/notebooks" + (f"/{chapter}" if chapter else "")
    query = urlencode({"repo": repo, "branch": branch, "targetpath": target, "urlpath": path})
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hub_url")
    parser.add_argument("repo")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--chapter", default=None)
    args = parser.parse_args(argv)
    print(nbgitpuller_link(args.hub_url, args.repo, branch=args.branch, chapter=args.chapter))


if __name__ == "__main__":
    main()
