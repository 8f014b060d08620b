"""One progress bar for every training loop in the library.

Training loops (skip-gram, MLPs, the attention model) show a ``tqdm.auto`` bar:
a widget in JupyterLab, text in a terminal. Setting the environment variable
``TQDM_DISABLE=1`` turns every bar off — the tests and ``make notebooks`` do
that, so no bar is stored in a committed notebook. tqdm's notebook bar does not
read that variable itself, so it is read here, once for the whole library.
"""

from __future__ import annotations

import os


def bars_disabled() -> bool:
    """True when ``TQDM_DISABLE`` is set to 1/true/yes."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")


def progress_bar(iterable=None, *, total=None, desc: str = "", show: bool = True):
    """A ``tqdm.auto`` bar over ``iterable`` (or of length ``total``), off when disabled.

    Examples
    --------
    >>> for _ in progress_bar(range(3), desc="demo", show=False): pass
    """
    from tqdm.auto import tqdm  # imported here: importing lalib stays cheap

    return tqdm(iterable, total=total, desc=desc, leave=False, disable=bars_disabled() or not show)
