"""The web app: ``build_app(assistant)`` lays it out, ``launch(demo)`` serves it.

``render`` (HTML, escaped) and ``handlers`` (what each action does) import no Gradio and are
tested as plain functions; ``layout`` binds them to components; ``server`` serves. Gradio is
imported only when the layout or the server is asked for.
"""
from __future__ import annotations

__all__ = ["build_app", "launch", "serve", "warm_up"]
_HOMES = {"build_app": "layout", "launch": "server", "serve": "server", "warm_up": "handlers"}


def __getattr__(name: str):
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
