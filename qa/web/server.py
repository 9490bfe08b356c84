"""Serving the app: loopback by default, a slowed-down login, the theme."""
from __future__ import annotations

import os
import time
from typing import Optional

import gradio as gr

from ..loaders import MAX_FILE_BYTES
from .render import CSS, TOOLTIP_SCRIPT

LOGIN_DELAY_S = (0.5, 8.0)  # after a failed login: first delay, cap (doubling per recent failure)


def theme():
    system = ["ui-sans-serif", "system-ui", "Noto Sans CJK SC", "sans-serif"]  # no web-font downloads
    return gr.themes.Default(font=system, font_mono=["ui-monospace", "monospace"])


def login_gate(user: str, password: str):
    """Gradio's ``auth`` callable for one user: failed logins are slowed down, one after another.

    Each failure within a minute doubles the delay (0.5 s up to 8 s), and failures wait in
    turn, so guessing a password costs time even with many parallel attempts. The gate is async:
    Gradio awaits it in its event loop, where a blocking sleep would stall every other user.
    """
    import asyncio
    import hmac

    failures: list[float] = []
    turn: list[asyncio.Lock] = []

    async def check(username: str, attempt: str) -> bool:
        ok = hmac.compare_digest(username.encode(), user.encode()) & hmac.compare_digest(attempt.encode(),
                                                                                          password.encode())
        if ok:
            return True
        if not turn:
            turn.append(asyncio.Lock())
        async with turn[0]:
            now = time.monotonic()
            failures[:] = [t for t in failures if now - t < 60] + [now]
            first, cap = LOGIN_DELAY_S
            await asyncio.sleep(min(cap, first * 2 ** (len(failures) - 1)))
        return False

    return check


def launch(demo, host: str = "127.0.0.1", port: Optional[int] = 7860, auth: Optional[tuple[str, str]] = None,
           **kwargs):
    """Serve on loopback unless told otherwise; never through a public share link.

    Two Gradio queue defaults cost every request CPU under load (measured): a position update
    sent to every waiting client whenever any request starts, instead of once a second; and a
    pandas summary of up to 10,000 past events rebuilt after each request for a monitoring page
    this app does not enable (3-9 ms holding the GIL, growing with uptime).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")  # read when the queue is made
    demo.queue(status_update_rate=1.0)
    if auth is not None:
        auth = login_gate(*auth)
    from .layout import TRANSLATIONS

    return demo.launch(server_name=host, server_port=port, auth=auth, share=False, ssr_mode=False,
                       max_file_size=MAX_FILE_BYTES, theme=theme(), css=CSS, head=TOOLTIP_SCRIPT, footer_links=["api"],
                       i18n=TRANSLATIONS, **kwargs)


def serve(index_dir=None, corpus=None, host: str = "127.0.0.1", port: int = 7860,
          auth: Optional[tuple[str, str]] = None, say=print, **llm) -> None:
    """Open (on first run build) the index and serve the app on it: ``python app.py`` and ``qa serve``.

    ``llm``: ``llm``, ``llm_model``, ``llm_timeout`` as for ``Assistant`` (a generative answer server).
    """
    from ..assistant import DEFAULT_CORPUS, Assistant, default_index_dir
    from .handlers import warm_up
    from .layout import build_app

    index_dir = index_dir or default_index_dir()
    started = time.perf_counter()
    if not Assistant.exists(index_dir):
        say(f"No index at {index_dir} yet: building it from {corpus or DEFAULT_CORPUS} (first run)…")
    assistant = Assistant.open_default(index_dir, corpus=corpus, show_progress=True, **llm)
    warm_up(assistant)
    say(f"Index {index_dir} ready in {time.perf_counter() - started:.1f}s.")
    if assistant.llm is not None:
        say(f"Generated answers from {assistant.llm.url} (checked before they are shown).")
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(f"Listening on {host}: the app is reachable from other machines.")
    launch(build_app(assistant), host=host, port=port, auth=auth)
