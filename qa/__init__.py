"""Question answering over regulations: cited, verbatim answers from a hybrid FAISS + BM25 index.

>>> from qa import Assistant
>>> assistant = Assistant.open_default()          # builds index/ from corpus/ on first use
>>> print(assistant.ask("When do the Chongqing development zone regulations take effect?").text)
"""
from .assistant import Assistant
from .index import BuildReport
from .integrity import QAIndexError
from .loaders import LoadError
from .models import Answer, Citation, Document, Hit, Passage
from .query import QueryError
from .retrieval import SearchSettings
from .version import __version__

__all__ = ["Assistant", "Answer", "Citation", "Document", "Hit", "Passage", "SearchSettings", "BuildReport",
           "LoadError", "QueryError", "QAIndexError", "__version__"]
