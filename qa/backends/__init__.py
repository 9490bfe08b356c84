"""Where an index lives decides which backend serves it — decided here, in one place.

An index address is a folder (the default: FAISS + bm25s + SQLite, ``qa.index``) or
``milvus://HOST:PORT/COLLECTION`` (Milvus collections, ``qa.backends.milvus``). Both give the
retriever the same three roles (``protocols``); everything above them is shared.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from .milvus.address import MilvusAddress, is_milvus

Location = Union[Path, MilvusAddress]


def locate(spec) -> Location:
    """A folder path or a parsed Milvus address (ValueError for a malformed ``milvus://`` address)."""
    if isinstance(spec, MilvusAddress):
        return spec
    if is_milvus(spec):
        return MilvusAddress.parse(str(spec))
    return Path(spec)


def generation_name(location: Location) -> Optional[str]:
    """What names the live index right now; it changes whenever a change is published."""
    if isinstance(location, MilvusAddress):
        from .milvus import generation_name as milvus_generation

        return milvus_generation(location)
    from ..index import current_generation

    gen = current_generation(location)
    return gen.name if gen is not None else None


def exists(location: Location) -> bool:
    return generation_name(location) is not None


def open_index(location: Location):
    """The live index opened for reading (``LoadedIndex`` or ``MilvusIndex``)."""
    if isinstance(location, MilvusAddress):
        from .milvus import MilvusIndex

        return MilvusIndex.open(location)
    from ..index import LoadedIndex

    return LoadedIndex.open(location)


def read_manifest(location: Location) -> dict:
    if isinstance(location, MilvusAddress):
        from ..integrity import no_index
        from .milvus.address import client_for
        from .milvus.collections import manifest_of
        from .milvus.index import live_generation

        live = live_generation(client_for(location), location)
        if live is None:
            raise no_index(location)
        return manifest_of(client_for(location), live) or {}
    from ..index import read_manifest as folder_manifest

    return folder_manifest(location)


def missing_index(location: Location):
    if isinstance(location, MilvusAddress):
        from ..integrity import no_index

        return no_index(location)
    from ..index import missing_index as folder_missing

    return folder_missing(location)


def make_writer(location: Location, embedder, **options):
    if isinstance(location, MilvusAddress):
        from .milvus import MilvusWriter

        return MilvusWriter(location, embedder, **options)
    from ..index import IndexWriter

    return IndexWriter(location, embedder, **options)


def verify(location: Location):
    if isinstance(location, MilvusAddress):
        from .milvus import verify as milvus_verify

        return milvus_verify(location)
    from ..index import verify as folder_verify

    return folder_verify(location)
