"""The dense role on Milvus: passage vectors in an HNSW index, inner product of normalised vectors."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .collections import literal, rows_for
from .store import AllowedIds, allowed_expression

MIN_EF = 64  # HNSW search breadth; raised to k when more candidates are asked for


class MilvusDense:
    """Same methods as ``DenseIndex`` (qa/dense.py), over the ``vector`` field of a generation."""

    def __init__(self, client, generation: str, dim: int, count: int):
        self._client = client
        self._generation = generation
        self.dim = dim
        self._count = count

    def __len__(self) -> int:
        return self._count

    def top(self, vector: np.ndarray, k: int, allowed: Optional[np.ndarray] = None) -> list[tuple[int, float]]:
        expr = allowed_expression(allowed)
        if expr is False or not self._count or k <= 0:
            return []
        hits = self._client.search(self._generation, data=[np.asarray(vector, dtype=np.float32).tolist()],
                                   anns_field="vector", limit=k, filter=expr or "", output_fields=["id"],
                                   search_params={"metric_type": "IP", "params": {"ef": max(MIN_EF, k)}})[0]
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        ids = [int(i) for i in ids]
        rows = {int(r["id"]): r["vector"] for r in rows_for(self._client, self._generation, "id", ids, ["id", "vector"])}
        return np.asarray([rows[i] for i in ids], dtype=np.float32).reshape(len(ids), self.dim)

    def similarities(self, vector: np.ndarray, ids: Sequence[int]) -> list[tuple[int, float]]:
        """Similarity of every given passage, computed on the server (a filtered search over just
        these ids); any the search leaves out are scored here from their stored vectors."""
        if not len(ids):
            return []
        ids = [int(i) for i in dict.fromkeys(int(i) for i in ids)]
        found = dict(self.top(vector, len(ids), AllowedIds.of(ids, f"id in {literal(ids)}"))) if len(ids) <= 16384 else {}
        rest = [i for i in ids if i not in found]
        if rest:
            scores = self.vectors_of(rest) @ np.asarray(vector, dtype=np.float32)
            found.update(zip(rest, (float(s) for s in scores)))
        return sorted(found.items(), key=lambda kv: -kv[1])

    def ids(self) -> np.ndarray:
        from .collections import scan

        return np.asarray([int(r["id"]) for r in scan(self._client, self._generation, "", ["id"])], dtype=np.int64)
