"""HTTP(S) GET that cannot be turned against the machine it runs on (SSRF).

A URL typed into ``qa index add`` or the web app is fetched by the server, so a name or a
redirect pointing at 127.0.0.1, a private network or a cloud metadata address would let a
user read what only the server can reach. Every hop is therefore resolved here, each address
checked, and the connection made to that checked address (not re-resolved, so a name cannot
change its answer between the check and the connect). Redirects are followed by hand, each one
checked again. Loopback and private addresses are allowed only when asked for explicitly
(``allow_private=True``, ``QA_ALLOW_PRIVATE_URLS=1``, or that variable set to a comma-separated
list of host names and networks such as ``intranet.example,10.20.0.0/16``), for intranets and tests.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urljoin, urlsplit

ALLOW_PRIVATE_ENV = "QA_ALLOW_PRIVATE_URLS"
MAX_REDIRECTS = 5
USER_AGENT = "qa-regulations/0.1"
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The URL was refused or could not be fetched; the message says why."""


@dataclass
class Fetched:
    url: str  # after redirects
    content_type: str
    data: bytes


@dataclass(frozen=True)
class AddressPolicy:
    """Which internal destinations may be fetched: all of them, or only the named hosts and networks."""

    allow_all: bool = False
    hosts: frozenset = frozenset()
    networks: tuple = ()

    @classmethod
    def from_setting(cls, allow_private: Optional[bool] = None) -> "AddressPolicy":
        if allow_private is not None:
            return cls(allow_all=allow_private)
        value = os.environ.get(ALLOW_PRIVATE_ENV, "").strip()
        if value.lower() in ("", "0", "false", "no"):
            return cls()
        if value.lower() in ("1", "true", "yes"):
            return cls(allow_all=True)
        hosts, networks = set(), []
        for item in filter(None, (x.strip() for x in value.split(","))):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower())
        return cls(hosts=frozenset(hosts), networks=tuple(networks))

    def allows(self, host: str, address: str) -> bool:
        if self.allow_all or host.lower() in self.hosts:
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return any(ip in net for net in self.networks if net.version == ip.version)


def _refusal(address: str) -> Optional[str]:
    """Why connecting to ``address`` is refused by default, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address (it reaches this machine)"
    if ip.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global:
        return "not a public internet address"
    return None


def resolve_checked(host: str, port: int, policy: AddressPolicy) -> str:
    """One address of ``host`` that may be connected to; refuses if any address is internal."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"could not resolve host {host!r} ({exc.strerror})") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchError(f"host {host!r} has no address")
    for address in addresses:
        why = _refusal(address)
        if why and not policy.allows(host, address):
            raise FetchError(f"refused: {host} resolves to {address}, {why}; internal addresses are not "
                             f"fetched unless allowed (--allow-private-urls or {ALLOW_PRIVATE_ENV})")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand while sending the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _read_limited(response, timeout: float, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes within ``timeout`` seconds overall.

    The socket timeout only bounds each read; a server that trickles bytes would otherwise
    hold a build for as long as it likes.
    """
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = response.read1(min(65536, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise FetchError(f"could not fetch (timed out after {timeout:g} s: the server is too slow)")
    return b"".join(chunks)


def fetch(url: str, timeout: float, max_bytes: int, allow_private: Optional[bool] = None) -> Fetched:
    """GET ``url`` following at most ``MAX_REDIRECTS`` redirects, every hop checked."""
    policy = AddressPolicy.from_setting(allow_private)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"only http:// and https:// URLs are fetched, not {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_checked(parts.hostname, port, policy)
        cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        conn = cls(parts.hostname, port, address, timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
            response = conn.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"HTTP {response.status} redirect without a Location header")
                url = urljoin(url, location)
                continue
            if response.status >= 400:
                raise FetchError(f"HTTP {response.status} {response.reason}")
            data = _read_limited(response, timeout, max_bytes)
            return Fetched(url, (response.getheader("Content-Type") or "").lower(), data)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"could not fetch ({getattr(exc, 'strerror', None) or exc})") from exc
        finally:
            conn.close()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")
