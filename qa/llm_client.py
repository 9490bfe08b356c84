"""A client for any OpenAI-compatible chat endpoint (llama.cpp server, Ollama, vLLM), streamed.

One job: send chat messages, yield the reply's text as it arrives (server-sent events,
``stream: true``), and turn every way a server can fail — refused connection, HTTP error,
silence, a reply that never ends, malformed events — into one ``LLMError`` whose message fits
on the line that tells the reader why the generated answer is not shown.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Iterator, Optional
from urllib.parse import urlparse

import httpx

DEFAULT_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 5.0


class LLMError(Exception):
    """The language model server could not give an answer (the message says why, in one line)."""


def chat_url(url: str) -> str:
    """The chat-completions address for a server's base URL (``http://host:8080``, ``…/v1`` or the full path)."""
    if not isinstance(url, str) or urlparse(url.strip()).scheme not in ("http", "https") \
            or not urlparse(url.strip()).netloc:
        raise ValueError(f"--llm takes the http(s) address of an OpenAI-compatible server, such as "
                         f"http://127.0.0.1:8080/v1, not {url!r}")
    url = url.strip().rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return url + ("/chat/completions" if url.endswith("/v1") else "/v1/chat/completions")


@dataclass
class ChatEndpoint:
    """Where the model is served and what it is called; ``timeout`` bounds a whole reply."""

    url: str
    model: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT_S
    served_model: Optional[str] = None  # the name the server gave in its last reply

    def __post_init__(self) -> None:
        self.url = chat_url(self.url)
        if not self.timeout or self.timeout <= 0:
            raise ValueError(f"the language model timeout must be a positive number of seconds, not {self.timeout!r}")

    @property
    def label(self) -> str:
        """The model's name as shown to readers (the server's address when no name was given)."""
        return self.model or self.served_model or urlparse(self.url).netloc

    def stream(self, messages: list[dict], max_tokens: int = 320, temperature: float = 0.0) -> Iterator[str]:
        """Yield the reply's text piece by piece; raise ``LLMError`` on any failure or past the deadline."""
        deadline = time.monotonic() + self.timeout
        body = {"messages": messages, "stream": True, "max_tokens": max_tokens, "temperature": temperature}
        if self.model:
            body["model"] = self.model
        timeout = httpx.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT_S, self.timeout))
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as client, \
                    client.stream("POST", self.url, json=body, headers={"Accept": "text/event-stream"}) as response:
                if response.status_code != 200:
                    response.read()
                    raise LLMError(f"the language model server answered HTTP {response.status_code}"
                                   f"{_error_detail(response.text)}")
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    response.read()  # a server that ignored ``stream``: one JSON reply
                    yield _message_text(response.text)
                    return
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise LLMError(f"the language model did not finish within {self.timeout:g} s")
                    piece, served = _event_text(line)
                    self.served_model = served or self.served_model
                    if piece is None:
                        return
                    if piece:
                        yield piece
                raise LLMError("the language model server ended the reply without finishing it")
        except httpx.TimeoutException as exc:
            raise LLMError(f"the language model server did not answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach the language model server at {self.url} ({type(exc).__name__})") from exc


def _error_detail(body: str) -> str:
    try:
        message = json.loads(body)["error"]
        message = message.get("message", "") if isinstance(message, dict) else str(message)
    except (ValueError, KeyError, TypeError):
        message = body
    message = " ".join(str(message).split())[:120]
    return f": {message}" if message else ""


def _event_text(line: str) -> tuple[Optional[str], Optional[str]]:
    """(text, model name) of one server-sent event line: text "" for lines without text, None at the end."""
    if not line.startswith("data:"):
        return "", None  # comments, event names, keep-alives, blank separators
    data = line[5:].strip()
    if data == "[DONE]":
        return None, None
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise LLMError("the language model server sent an event that is not JSON") from exc
    if not isinstance(event, dict):
        raise LLMError("the language model server sent an event that is not a JSON object")
    if "error" in event:
        raise LLMError(f"the language model server reported an error{_error_detail(data)}")
    choices = event.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    text = (choice.get("delta") or {}).get("content") or ""
    if not isinstance(text, str):
        raise LLMError("the language model server sent a reply piece that is not text")
    served = event.get("model") if isinstance(event.get("model"), str) else None
    if choice.get("finish_reason") == "stop" and not text:
        return None, served
    return text, served


def _message_text(body: str) -> str:
    try:
        text = json.loads(body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError("the language model server's reply is not an OpenAI-style chat completion") from exc
    if not isinstance(text, str):
        raise LLMError("the language model server's reply has no text")
    return text
