"""The app's words in English and Chinese: one table, the language chosen per request.

Component labels reach the browser through Gradio's ``gr.I18n`` (``gradio_translations``), so the
first page is already in the browser's language; our own HTML and status messages are rendered on
the server with ``t(key)``, in the language of the request being handled (``use_language``, set by
the layout from the language control). No Gradio here.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Optional

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
_current: ContextVar[str] = ContextVar("qa_web_language", default=DEFAULT)

# key: (English, Chinese). Placeholders in braces are filled by ``t(key, **values)``.
STRINGS: dict[str, tuple[str, str]] = {
    # layout: titles, tabs, labels, buttons
    "app_intro": ("Ask about the regulations in English or Chinese. Every answer quotes the provision it rests on; "
                  "when the documents do not hold the answer, it says so.",
                  "可用中文或英文询问法规。每个回答都引用其所依据的条文；文件中没有答案时，会如实说明。"),

    "language": ("Language", "语言"),
    "tab_chat": ("Chat", "问答"),
    "tab_search": ("Search", "检索"),
    "tab_documents": ("Documents", "文件"),
    "tab_read": ("Read", "阅读"),
    "conversation": ("Conversation", "对话"),
    "ask_placeholder": ("Ask a question…", "请输入问题…"),
    "ask": ("Ask", "提问"),
    "examples": ("Examples", "示例"),
    "clear_conversation": ("Clear conversation", "清空对话"),
    "query": ("Query", "检索词"),
    "k_passages": ("k (passages)", "返回段落数 k"),
    "kind_filter": ("Kind (none = all)", "类型（不选 = 全部）"),
    "documents_filter": ("Documents (none = all)", "文件（不选 = 全部）"),
    "search": ("Search", "检索"),
    "add_documents": ("Add documents (.md .txt .html .pdf .docx)", "添加文件（.md .txt .html .pdf .docx）"),
    "index_uploads": ("Index uploaded files", "索引上传的文件"),
    "document_to_delete": ("Document to delete", "要删除的文件"),
    "delete_document": ("Delete document", "删除文件"),
    "replace": ("Replace", "替换"),
    "keep_both": ("Keep both", "两者都保留"),
    "cancel": ("Cancel", "取消"),
    "delete": ("Delete", "删除"),
    "document": ("Document", "文件"),
    "chapter": ("Chapter / section", "章 / 节"),
    "article": ("Article", "条"),
    "col_title": ("title", "标题"),
    "col_kind": ("kind", "类型"),
    "col_language": ("language", "语言"),
    "col_date": ("date", "日期"),
    "col_passages": ("passages", "段落数"),
    "col_id": ("id", "编号"),
    "summary": ("{documents} documents · {passages} passages", "{documents} 个文件 · {passages} 个段落"),
    # panels (render.py)
    "panel_placeholder": ("The cited passages of each answer appear here.", "每个回答所引用的段落显示在这里。"),
    "cited_provisions": ("Cited provisions", "引用条文"),
    "nearest_not_answer": ("Nearest passages — not an answer", "最接近的段落（并非答案）"),
    "no_passages": ("No passages found.", "未找到段落。"),
    "confidence": ("confidence", "置信度"),
    "word_by_word": ("Word by word (pinyin, meanings)", "逐词释义（拼音、词义）"),
    "source": ("source", "来源"),
    "file": ("file", "文件"),
    "sources": ("Sources", "来源"),
    "read_as": ("Read as:", "理解为："),
    "focus_note": ("**Focus:** {law} — a follow-up that names no law (\"What about Article 6?\", \"那法律责任呢？\") "
                   "is read in it.",
                   "**当前焦点：** {law} —— 未点明法律的追问（如“那第六条呢？”“What about Article 6?”）按此法律理解。"),
    "clear_focus": ("Clear focus", "清除焦点"),
    "download_conversation_md": ("Conversation (.md)", "对话（.md）"),
    "download_conversation_docx": ("Conversation (.docx)", "对话（.docx）"),
    "download_answer_md": ("This answer (.md)", "本条回答（.md）"),
    "download_answer_docx": ("This answer (.docx)", "本条回答（.docx）"),
    "refers_to": ("refers to", "引用"),
    "referenced": ("Referenced:", "所引条文："),
    "fetch_official": ("Fetch the official text (《重庆市开发区条例》)", "获取官方文本（《重庆市开发区条例》）"),
    "not_fetched": ("Not fetched:", "未获取："),
    "translated_query": ("Translated query:", "查询译文："),
    "no_match": ("No passages match. Widen the filters or rephrase the query.",
                 "没有匹配的段落。请放宽筛选条件或换一种说法。"),
    "similarity": ("similarity", "相似度"),
    "choose_document": ("Choose a document.", "请选择文件。"),
    "cannot_answer": ("Cannot answer:", "无法回答："),
    "went_wrong": ("Something went wrong:", "出错了："),
    "empty_question": ("(empty question)", "（空问题）"),
    # statuses (handlers.py)
    "choose_files": ("Choose one or more files first (.md .txt .html .pdf .docx).",
                     "请先选择一个或多个文件（.md .txt .html .pdf .docx）。"),
    "nothing_indexed": ("Nothing was indexed: {error}", "未索引任何文件：{error}"),
    "indexed": ("Indexed {count} document(s), {passages} passages ({seconds}s): {names}",
                "已索引 {count} 个文件，{passages} 个段落（{seconds} 秒）：{names}"),
    "rejected": ("Rejected {count} file(s):", "未接受 {count} 个文件："),
    "nothing_to_index": ("Nothing to index.", "没有可索引的内容。"),
    "upload_cancelled": ("Upload cancelled: nothing was indexed or replaced.", "已取消上传：没有索引或替换任何文件。"),
    "already_indexed": ("**Already indexed** — uploading would replace {count} document(s):",
                        "**已有同名文件** —— 上传将替换 {count} 个文件："),
    "n_passages": ("{passages} passages", "{passages} 个段落"),
    "replace_choices": ("Replace them, keep both (the upload is indexed under a new name), or cancel.",
                        "可以替换、两者都保留（上传的文件以新名称索引），或取消。"),
    "delete_question": ("**Delete {title}** ({id}, {passages} passages) from the index? Questions will no longer find it.",
                        "**从索引中删除 {title}**（{id}，{passages} 个段落）？删除后提问将不再检索到它。"),
    "delete_bundled": (" It is one of the documents bundled with the app: to bring it back later, upload "
                       "corpus/{id} again or rebuild the index.",
                       "这是应用自带的文件：如需恢复，请重新上传 corpus/{id} 或重建索引。"),
    "choose_delete": ("Choose a document to delete.", "请选择要删除的文件。"),
    "could_not_delete": ("Could not delete: {error}", "无法删除：{error}"),
    "could_not_delete_doc": ("Could not delete {doc}: {reasons}", "无法删除 {doc}：{reasons}"),
    "deleted": ("Deleted {doc}.", "已删除 {doc}。"),
    "nothing_deleted": ("Nothing was deleted.", "未删除任何文件。"),
    # progress stages (qa.index names them in English)
    "stage_loading": ("loading", "读取"),
    "stage_chunking": ("chunking", "分段"),
    "stage_embedding": ("embedding", "向量化"),
    "stage_saving": ("saving", "保存"),
    "seconds_left": ("about {n} s left", "约剩 {n} 秒"),
    "minutes_left": ("about {n} min left", "约剩 {n} 分钟"),
}
STRINGS["app_header"] = ("## Regulation Q&A\n" + STRINGS["app_intro"][0], "## 法规问答\n" + STRINGS["app_intro"][1])
_INDEX = {code: i for i, code in enumerate(LANGUAGES)}
_PREFERENCE = re.compile(r"\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9-]+)?\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def current() -> str:
    """The language of the request being handled (English unless ``use_language`` says otherwise)."""
    return _current.get()


@contextmanager
def use_language(language: Optional[str]) -> Iterator[str]:
    """Render in ``language`` (a code of LANGUAGES; anything else means English) inside the block."""
    code = language if language in LANGUAGES else DEFAULT
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def t(key: str, language: Optional[str] = None, **values) -> str:
    """``key``'s text in ``language`` (default: the current one), placeholders filled from ``values``."""
    text = STRINGS[key][_INDEX.get(language or current(), 0)]
    return text.format(**values) if values else text


def stage(name: str) -> str:
    """A progress stage in the current language; a message that is not a stage stays as it is."""
    key = f"stage_{name}"
    return t(key) if key in STRINGS else name


def language_of(accept_language: Optional[str]) -> str:
    """The language to use for a browser's Accept-Language header: its most preferred language
    that we have (``zh-CN,zh;q=0.9`` → zh, ``fr,zh;q=0.5`` → zh), else English."""
    ranked = []
    for n, part in enumerate((accept_language or "").split(",")):
        m = _PREFERENCE.match(part)
        if m and m.group(1).lower() in LANGUAGES:
            try:
                q = float(m.group(2)) if m.group(2) else 1.0
            except ValueError:
                continue
            ranked.append((-q, n, m.group(1).lower()))
    return min(ranked)[2] if ranked else DEFAULT


def gradio_translations() -> dict[str, dict[str, str]]:
    """The table for ``gr.I18n``, by browser locale (Gradio matches "zh-CN" and then "zh")."""
    english = {key: text[0] for key, text in STRINGS.items()}
    chinese = {key: text[1] for key, text in STRINGS.items()}
    return {"en": english, "zh": chinese, "zh-CN": chinese, "zh-TW": chinese}
