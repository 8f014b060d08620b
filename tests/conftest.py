"""Test-wide set-up: offline guard, headless plotting, quiet progress bars."""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

OFFLINE_DIR = Path(__file__).parent / "offline"
sys.path.insert(0, str(OFFLINE_DIR))
import offline_guard  # noqa: E402

# This process, and every Python subprocess a test starts (kernels included).
offline_guard.install()
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in [str(OFFLINE_DIR), os.environ.get("PYTHONPATH", "")] if p
)
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

# Shared, noisy machines: hypothesis must not fail a test for being slow.
settings.register_profile("lalib", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lalib")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rng():
    """A seeded generator, the same in every test that asks for one."""
    import numpy as np

    return np.random.default_rng(20250101)
