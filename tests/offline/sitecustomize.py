# Loaded by every Python process started with tests/offline on PYTHONPATH
# (the Makefile's test targets do that, and tests/conftest.py for subprocesses):
# block the network in kernels and helpers as well as in the pytest process.
import offline_guard

offline_guard.install()
