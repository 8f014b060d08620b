"""lalib — the linear algebra of deep learning, as notebooks you can run.

The kernels live in one module per topic (``linalg``, ``embeddings``, ``mlp``,
``attention``, ...); importing ``lalib`` itself is cheap and pulls in neither
matplotlib nor ipywidgets. Import a module to use it::

    from lalib import attention
    attention.softmax([1.0, 2.0, 3.0])
"""

__version__ = "0.1.0"
