"""Files, folders, JSONL corpora and URLs → Documents.

Each format has one small reader; every failure becomes a ``LoadError`` that names the
source and the reason, so a build can skip the file, go on, and report it at the end.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import asdict
from datetime import date as _date
from pathlib import Path
from typing import Iterable, Iterator, Optional
from urllib.parse import urlsplit

import yaml

from .document_meta import describe
from .fetching import FetchError, fetch
from .models import KINDS, Document
from .text import detect_language, normalize, strip_html_comments

FILE_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")  # one file, one document
SUPPORTED_SUFFIXES = FILE_SUFFIXES + (".jsonl",)  # a .jsonl corpus: one document per line
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_URL_BYTES = 20 * 1024 * 1024
URL_TIMEOUT_S = 20.0


class LoadError(Exception):
    """A source that could not be loaded; ``source`` names it, ``reason`` says why."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


# ---------------------------------------------------------------- helpers

_FILENAME_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)$")


def _title_from_name(path: Path) -> tuple[str, Optional[str]]:
    stem = path.stem
    m = _FILENAME_DATE.search(stem)
    return (stem[: m.start()].strip(), m.group(1)) if m else (stem, None)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode(data: bytes, source: str) -> str:
    if data[:2] in _UTF16_BOMS:  # UTF-16 text is full of NUL bytes but is text
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError(source, "starts with a UTF-16 byte-order mark but is not valid UTF-16") from exc
    if b"\x00" in data[:8192]:
        raise LoadError(source, "binary file (contains NUL bytes), not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError(source, "not valid UTF-8 or GB18030 text")


def _kind(value, source: str) -> Optional[str]:
    if value is None:
        return None
    value = str(value).lower()
    if value not in KINDS:
        raise LoadError(source, f"front matter kind {value!r} is not one of {', '.join(KINDS)}")
    return value


def _make(doc_id, text, title, source, *, kind=None, language=None, date=None, article=None,
          front: Optional[dict] = None) -> Document:
    """``front`` holds what the document says about itself (front matter, a JSONL row): dates,
    region and version there win over what ``describe`` reads from the text."""
    text = normalize(text)
    if not text:
        raise LoadError(doc_id, "no text found (empty document)")
    if kind is None:
        from .legal import parse_articles  # statutes are recognised by their articles

        kind = "regulation" if parse_articles(text) else "other"
    title = (title or doc_id).strip()
    try:
        meta = describe(title, text, kind, str(date) if date else None, front)
    except ValueError as exc:
        raise LoadError(doc_id, f"front matter: {exc}") from exc
    return Document(
        id=doc_id, title=title, text=text, kind=kind,
        language=language or detect_language(text), date=str(date) if date else None,
        source=source, article=article, **asdict(meta),
    )


# ---------------------------------------------------------------- formats

_FRONT_MATTER = re.compile(r"^---\s*\n(.*?)\n---\s*\n", re.S)
_MD_TITLE = re.compile(r"^#\s+(.+)$", re.M)


def read_markdown(raw: str, doc_id: str, path: Optional[Path] = None, source=None) -> Document:
    meta: dict = {}
    m = _FRONT_MATTER.match(raw.lstrip("\ufeff"))
    if m:
        try:
            meta = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or exc.__class__.__name__
            raise LoadError(doc_id, f"front matter is not valid YAML{where}: {problem} "
                                    "(quote values that contain ': ')") from exc
        if not isinstance(meta, dict):
            raise LoadError(doc_id, "front matter must be a mapping of key: value lines")
        raw = raw[m.end():]
    body = strip_html_comments(raw)
    name_title, name_date = _title_from_name(path) if path else (None, None)
    heading = _MD_TITLE.search(body)
    title = meta.get("title") or (heading.group(1).strip() if heading else None) or name_title
    date = meta.get("date") or name_date
    if isinstance(date, _date):
        date = date.isoformat()
    return _make(doc_id, body, title, meta.get("url") or meta.get("source") or source,
                 kind=_kind(meta.get("kind"), doc_id), language=meta.get("language"), date=date, front=meta)


_BYLINE = re.compile(r"^By\s+(.+?)\s*\|\s*(.+)$")
_CAPTION = re.compile(r"\((Photo|Image|Picture)s?\s*[/:]", re.I)


def _is_prose(line: str) -> bool:
    """A line that reads like article body: long enough and ending a sentence."""
    if _CAPTION.search(line):
        return False
    long_enough = len(line.split()) >= 8 or len(re.findall(r"[\u4e00-\u9fff]", line)) >= 20
    return long_enough and line.rstrip()[-1:] in ".!?\"”。！？」』)"


def extract_main_text(text: str) -> tuple[Optional[str], str, Optional[str]]:
    """Strip site chrome from a plain-text page capture: (headline, body, date).

    Keeps the densest run of prose lines (gaps of at most two short lines), the way
    boilerplate removers score text density; menus, cookie banners and footers are short
    or far from the article body.
    """
    lines = [l.strip() for l in normalize(text).split("\n") if l.strip()]
    prose = [i for i, l in enumerate(lines) if _is_prose(l)]
    if not prose:
        return None, "\n\n".join(lines), None
    clusters: list[list[int]] = [[prose[0]]]
    for i in prose[1:]:
        (clusters[-1].append(i) if i - clusters[-1][-1] <= 3 else clusters.append([i]))
    best = max(clusters, key=lambda c: sum(len(lines[i]) for i in c))
    body = [lines[i] for i in range(best[0], best[-1] + 1) if _is_prose(lines[i])]
    headline, date = None, None
    for j in range(best[0] - 1, -1, -1):
        m = _BYLINE.match(lines[j])
        if m:
            date = _parse_date(m.group(2))
            headline = lines[j - 1] if j > 0 else None
            break
        if len(lines[j].split()) >= 5 and headline is None:
            headline = lines[j]
            break
    return headline, "\n\n".join(body), date


def _parse_date(value: str) -> Optional[str]:
    from datetime import datetime

    for fmt in ("%b %d,%Y", "%b %d, %Y", "%B %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def read_text(raw: str, doc_id: str, path: Optional[Path] = None, source=None) -> Document:
    from .legal import parse_articles

    title, date = _title_from_name(path) if path else (None, None)
    if parse_articles(normalize(raw)):
        return _make(doc_id, raw, title, source, kind="regulation", date=date)
    headline, body, found_date = extract_main_text(raw)
    return _make(doc_id, body, headline or title, source, date=found_date or date)


def read_html(raw: str, doc_id: str, source=None) -> Document:
    import trafilatura

    result = trafilatura.bare_extraction(raw, url=source, with_metadata=True, include_comments=False,
                                         include_tables=True, favor_precision=True)
    text = getattr(result, "text", None) if result is not None else None
    if not text:
        raise LoadError(doc_id, "no main text could be extracted from the HTML")
    return _make(doc_id, text, getattr(result, "title", None), source, date=getattr(result, "date", None))


def read_pdf(data: bytes, doc_id: str, path: Optional[Path] = None, source=None) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        meta_title = (reader.metadata.title if reader.metadata else None)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(doc_id, f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    title, date = _title_from_name(path) if path else (None, None)
    return _make(doc_id, text, meta_title or title, source, date=date)


def read_docx(data: bytes, doc_id: str, path: Optional[Path] = None, source=None) -> Document:
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(doc_id, f"corrupt or unreadable DOCX ({exc.__class__.__name__})") from exc
    text = "\n".join(p.text for p in document.paragraphs)
    title, date = _title_from_name(path) if path else (None, None)
    return _make(doc_id, text, document.core_properties.title or title, source, date=date)


def read_jsonl(path: Path) -> Iterator[Document | LoadError]:
    """One document (and one passage) per row: ``id``, ``text``, optional ``title``/``law``, ``article``."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield LoadError(where, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(row, dict) or "id" not in row or "text" not in row:
                yield LoadError(where, "each row needs the fields 'id' and 'text'")
                continue
            try:
                title = row.get("law") or row.get("title") or str(row["id"])
                yield _make(str(row["id"]), str(row["text"]), title, row.get("source"),
                            kind=_kind(row.get("kind"), where) or "regulation", language=row.get("language"),
                            date=row.get("date"), article=row.get("article"), front=row)
            except LoadError as exc:
                yield exc


# ---------------------------------------------------------------- entry points


def load_file(path: Path, doc_id: str) -> Document:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES or suffix == ".jsonl":
        raise LoadError(doc_id, f"unsupported format {suffix or '(no extension)'}; "
                                f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(doc_id, f"file is {size // 2**20} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(doc_id, f"cannot read file ({exc.strerror or exc})") from exc
    return parse_bytes(data, suffix, doc_id, path=path, source=str(path.resolve()))


def parse_bytes(data: bytes, suffix: str, doc_id: str, path: Optional[Path] = None, source=None) -> Document:
    if not data.strip():
        raise LoadError(doc_id, "empty file")
    if suffix == ".pdf":
        return read_pdf(data, doc_id, path, source)
    if suffix == ".docx":
        return read_docx(data, doc_id, path, source)
    raw = _decode(data, doc_id)
    if suffix in (".md", ".markdown"):
        return read_markdown(raw, doc_id, path, source)
    if suffix in (".html", ".htm"):
        return read_html(raw, doc_id, source)
    return read_text(raw, doc_id, path, source)


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def fetch_url(url: str, timeout: Optional[float] = None, max_bytes: Optional[int] = None,
              allow_private: Optional[bool] = None) -> Document:
    """Fetch a page or file with a timeout and a size cap; the URL becomes id and source.

    Internal addresses (loopback, private, link-local, metadata) are refused on every hop
    unless ``allow_private`` (or ``QA_ALLOW_PRIVATE_URLS=1``) says otherwise. The limits default
    to the module settings read at call time, so changing ``URL_TIMEOUT_S`` / ``MAX_URL_BYTES``
    also governs URLs loaded during a build.
    """
    timeout = URL_TIMEOUT_S if timeout is None else timeout
    max_bytes = MAX_URL_BYTES if max_bytes is None else max_bytes
    try:
        fetched = fetch(url, timeout, max_bytes, allow_private)
    except FetchError as exc:
        raise LoadError(url, str(exc)) from exc
    if len(fetched.data) > max_bytes:
        raise LoadError(url, f"response is larger than the {max_bytes // 2**20} MiB limit")
    ctype = fetched.content_type
    path_suffix = Path(urlsplit(fetched.url).path).suffix.lower()
    if "pdf" in ctype or path_suffix == ".pdf":
        suffix = ".pdf"
    elif "wordprocessingml" in ctype or path_suffix == ".docx":
        suffix = ".docx"
    elif "html" in ctype or path_suffix in (".html", ".htm", ""):
        suffix = ".html"
    elif path_suffix in (".md", ".markdown"):
        suffix = ".md"
    else:
        suffix = ".txt"
    return parse_bytes(fetched.data, suffix, url, source=url)


# Corpus manifests describe the documents beside them; they are not documents themselves.
MANIFEST_NAMES = ("sources.json", "manifest.json")


def iter_files(folder: Path) -> Iterator[Path]:
    """Files below ``folder`` in name order; symbolic links to folders are not followed (no loops),
    but they and broken links are yielded so that the build can say it skipped them."""
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if (path.is_file() or path.is_symlink()) and not hidden and path.name not in MANIFEST_NAMES:
            yield path


def load_sources(sources: Iterable[str | Path], roots: Iterable[Path] = (),
                 allow_private_urls: Optional[bool] = None) -> Iterator[Document | LoadError]:
    """Yield a Document or LoadError per file; ids are relative to the folder given (or a known root).

    Each input fails alone: whatever goes wrong reading one file or URL becomes a LoadError
    naming it, and the others are still loaded.
    """
    roots = [Path(r).resolve() for r in roots]
    for src in sources:
        src_str = str(src)
        if is_url(src_str):
            yield _isolated(src_str, lambda: fetch_url(src_str, allow_private=allow_private_urls))
            continue
        path = Path(src_str)
        if not path.exists():
            yield LoadError(src_str, "no such file or folder")
        elif path.is_dir():
            for file in iter_files(path):
                yield from _load_one(file, file.relative_to(path).as_posix())
        else:
            yield from _load_one(path, _doc_id_for(path, roots))


def _doc_id_for(path: Path, roots: list[Path]) -> str:
    resolved = path.resolve()
    for root in roots:
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return path.name


def _load_one(path: Path, doc_id: str) -> Iterator[Document | LoadError]:
    if path.is_symlink() and not path.is_file():
        why = "symbolic link to a folder (not followed)" if path.is_dir() else "broken or looping symbolic link"
        yield LoadError(doc_id, why)
        return
    if path.suffix.lower() == ".jsonl":
        try:
            yield from read_jsonl(path)
        except (OSError, UnicodeDecodeError) as exc:
            yield LoadError(doc_id, f"cannot read JSONL corpus ({exc.__class__.__name__}: {exc})")
        return
    yield _isolated(doc_id, lambda: load_file(path, doc_id))


def _isolated(source: str, load) -> Document | LoadError:
    """Run one loader; any failure becomes a LoadError for this source alone.

    Library failures (a parser bug, a missing optional module) must not sink the rest of a
    batch; a missing module is named with the command that installs it.
    """
    try:
        return load()
    except LoadError as exc:
        return exc
    except ImportError as exc:
        return LoadError(source, f"a library needed for this format is missing or broken ({exc}); "
                                 "reinstall the project: pip install -e .")
    except RecursionError:
        return LoadError(source, "too deeply nested to read")
    except Exception as exc:  # noqa: BLE001 - untrusted input meets third-party parsers
        return LoadError(source, f"could not be read ({exc.__class__.__name__}: {exc})")
