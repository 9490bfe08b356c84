"""The Milvus backend: ``milvus://HOST:PORT/COLLECTION`` (see address, collections, writer)."""
from .address import MilvusAddress, is_milvus
from .index import MilvusIndex, generation_name, verify
from .writer import MilvusWriter

__all__ = ["MilvusAddress", "MilvusIndex", "MilvusWriter", "generation_name", "is_milvus", "verify"]
