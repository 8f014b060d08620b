"""The test-wide network guard refuses non-loopback connections, in-process and in subprocesses."""

import socket
import subprocess
import sys

import pytest

import offline_guard


def test_remote_connection_is_refused_loudly():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        with pytest.raises(offline_guard.NetworkBlocked, match="203.0.113.7"):
            s.connect(("203.0.113.7", 80))


def test_remote_name_resolution_is_refused():
    with pytest.raises(offline_guard.NetworkBlocked, match="example.org"):
        socket.getaddrinfo("example.org", 443)


def test_loopback_is_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    finally:
        server.close()


def test_guard_reaches_subprocesses():
    """Kernels are subprocesses: they inherit the guard through PYTHONPATH/sitecustomize."""
    code = "import socket; socket.create_connection(('198.51.100.1', 80), timeout=1)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "network access blocked during tests" in proc.stderr
