"""Small offline data sets for the chapters, all generated from a seeded ``rng``.

Nothing here downloads anything: every data set is made on the spot from a
known latent structure, so that a chapter can measure what a method recovered.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_positive_int, check_rng

__all__: list[str] = []

# --- chapter 1: embeddings ---

# --- chapter 2: MLPs and backpropagation ---

# --- chapter 3: attention and transformers ---
