"""The dense side: a FAISS inner-product index over L2-normalised vectors, rows keyed by passage id.

Mirrors ``LexicalIndex`` (build/load/save/top), so retrieval and the writer never call FAISS
directly; this is also the seam another vector store plugs into.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np


class DenseIndex:
    """Passage vectors; ``top`` ranks by cosine similarity (inner product of normalised vectors)."""

    def __init__(self, index):
        self._index = index

    @classmethod
    def empty(cls, dim: int) -> "DenseIndex":
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        """Raises RuntimeError when FAISS cannot read the file."""
        import faiss

        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def ids(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, vectors: np.ndarray, ids: Sequence[int]) -> None:
        self._index.add_with_ids(np.asarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Sequence[int]) -> None:
        self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def top(self, vector: np.ndarray, k: int, allowed: Optional[np.ndarray] = None) -> list[tuple[int, float]]:
        """The ``k`` nearest passages as (id, similarity), best first; only ``allowed`` ids when given
        (FAISS skips the others during the search, so a filter never shortens the list)."""
        if not len(self) or (allowed is not None and not len(allowed)):
            return []
        params = None
        if allowed is not None:
            import faiss

            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
            k = min(k, len(allowed))
        scores, ids = self._index.search(np.asarray(vector, dtype=np.float32)[None, :], min(k, len(self)),
                                         params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these passages, in order."""
        return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def similarities(self, vector: np.ndarray, ids: Sequence[int]) -> list[tuple[int, float]]:
        """Similarity of every given passage (wherever it ranks), best first."""
        if not len(ids):
            return []
        scores = self.vectors_of(ids) @ np.asarray(vector, dtype=np.float32)
        return [(int(ids[i]), float(scores[i])) for i in np.argsort(-scores)]
