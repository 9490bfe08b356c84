"""Question answering over regulations: cited, verbatim answers from a hybrid FAISS + BM25 index.

>>> from qa import Assistant
>>> assistant = Assistant.open_default()          # builds index/ from corpus/ on first use
>>> print(assistant.ask("When do the Chongqing development zone regulations take effect?").text)
"""
__version__ = "0.1.0"

from .assistant import Assistant  # noqa: E402
from .index import BuildReport, QAIndexError  # noqa: E402
from .loaders import LoadError  # noqa: E402
from .models import Answer, Citation, Document, Hit, Passage  # noqa: E402
from .retrieval import QueryError, SearchSettings  # noqa: E402

__all__ = ["Assistant", "Answer", "Citation", "Document", "Hit", "Passage", "SearchSettings", "BuildReport",
           "LoadError", "QueryError", "QAIndexError"]
