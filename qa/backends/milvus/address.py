"""``milvus://HOST:PORT/COLLECTION``: where a Milvus index lives, and the local state that goes with it.

The collection name is an alias: readers follow it, a rebuild swaps it. Two things stay on the
machine that writes: the writer lock and the embedding cache (vectors by content hash), in
``$QA_MILVUS_STATE`` (default ``~/.cache/qa-regulations/milvus``) under ``HOST_PORT_COLLECTION``.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEME = "milvus://"
STATE_ENV = "QA_MILVUS_STATE"
_ADDRESS = re.compile(r"^milvus://(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})/(?P<name>[^/?#]+)/?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")
CONNECT_TIMEOUT_S = 10.0


def is_milvus(spec) -> bool:
    return isinstance(spec, (str, MilvusAddress)) and str(spec).startswith(SCHEME)


@dataclass(frozen=True)
class MilvusAddress:
    host: str
    port: int
    collection: str

    @classmethod
    def parse(cls, spec: str) -> "MilvusAddress":
        """Raises ValueError naming what is wrong with ``spec``."""
        if isinstance(spec, MilvusAddress):
            return spec
        match = _ADDRESS.match(str(spec))
        if not match:
            raise ValueError(f"{spec!r} is not a Milvus index address: write milvus://HOST:PORT/COLLECTION "
                             "(e.g. milvus://127.0.0.1:19530/laws)")
        name, port = match["name"], int(match["port"])
        if not _NAME.match(name) or "__" in name:
            raise ValueError(f"{name!r} is not a usable collection name: letters, digits and single "
                             "underscores, starting with a letter or underscore, at most 200 characters")
        if not 0 < port < 65536:
            raise ValueError(f"port {port} in {spec!r} is not between 1 and 65535")
        return cls(match["host"], port, name)

    @property
    def uri(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_dir(self) -> Path:
        """Local folder for the writer lock and the embedding cache of this index."""
        base = Path(os.environ.get(STATE_ENV) or Path.home() / ".cache" / "qa-regulations" / "milvus")
        return base / f"{self.host.strip('[]').replace(':', '-')}_{self.port}_{self.collection}"

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}:{self.port}/{self.collection}"


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def client_for(address: MilvusAddress):
    """One shared ``MilvusClient`` per server and process (gRPC channels are thread-safe)."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    from ...integrity import QAIndexError

    with _clients_lock:
        client = _clients.get(address.uri)
        if client is None:
            # Its iterators warn on every scan that lite servers do not report a timestamp: noise, not news.
            logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
            try:
                client = MilvusClient(uri=address.uri, timeout=CONNECT_TIMEOUT_S)
            except MilvusException as exc:
                raise QAIndexError(f"cannot reach Milvus at {address.host}:{address.port} ({exc.message}); is the "
                                   f"server running? (for a local one: `milvus-lite server --data-dir DIR "
                                   f"--host 127.0.0.1 --port {address.port}`)") from exc
            _clients[address.uri] = client
        return client


def forget_client(address: MilvusAddress) -> None:
    """Drop the cached client (after the server restarted, a fresh channel reconnects at once)."""
    with _clients_lock:
        client = _clients.pop(address.uri, None)
    if client is not None:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - closing a dead channel may fail in many ways; it is gone either way
            pass
