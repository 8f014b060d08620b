"""Refuse every network connection outside the loopback range, loudly.

The series must work offline (a student on a train, a locked-down lab). A test
or notebook that quietly needed the network would hide that, so during a test
run any attempt to reach a non-loopback address raises ``NetworkBlocked``
before a packet leaves. Jupyter kernels talk to their client over loopback
(and through ZeroMQ, which does not use Python sockets), so they are unaffected.
"""

from __future__ import annotations

import ipaddress
import socket

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkBlocked(OSError):
    """Raised when code under test tries to reach the network."""


def _is_loopback(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).split("%")[0]  # drop an IPv6 zone id
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost


def _check(address, family) -> None:
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        if not _is_loopback(address[0]):
            raise NetworkBlocked(
                f"network access blocked during tests: tried to reach {address[0]}:{address[1]}; "
                "lalib and its notebooks must run offline"
            )


def install() -> None:
    """Patch socket so that connections outside loopback fail (idempotent)."""
    if getattr(socket.socket, "_lalib_offline", False):
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        _check(address, self.family)
        return original_connect(self, address)

    def connect_ex(self, address):
        _check(address, self.family)
        return original_connect_ex(self, address)

    def sendto(self, data, *args):
        _check(args[-1], self.family)
        return original_sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        # Resolving a remote name would already be a DNS query on the network.
        if not _is_loopback(host):
            try:
                ipaddress.ip_address(str(host).split("%")[0])
            except ValueError:
                raise NetworkBlocked(
                    f"network access blocked during tests: tried to resolve {host!r}; "
                    "lalib and its notebooks must run offline"
                ) from None
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.getaddrinfo = getaddrinfo
    socket.socket._lalib_offline = True
