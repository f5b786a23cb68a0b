"""Localization providers (the platforms that run jobs), registered by config name.

Entries are dotted paths imported on first use, so an optional provider's dependencies
cost nothing until it is configured. ``embedded`` is not a provider of its own: it is the
reference engine served in-process and reached through the ``lingo`` client over HTTP.
"""

from __future__ import annotations

import importlib

from daemon.providers.base import Provider

PROVIDERS: dict[str, str] = {
    "lingo": "daemon.providers.lingo:LingoProvider",
}


def provider_class(name: str) -> type[Provider]:
    """The provider class registered as ``name``; ``KeyError`` lists the known names."""
    try:
        module_name, _, attr = PROVIDERS[name].partition(":")
    except KeyError:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(sorted(PROVIDERS))}") from None
    cls: type[Provider] = getattr(importlib.import_module(module_name), attr)
    if cls.name != name:
        raise RuntimeError(f"provider registry entry {name!r} points at {cls.__name__} named {cls.name!r}")
    return cls
