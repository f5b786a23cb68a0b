"""File formats, registered by name (see ``base.Format`` for the contract).

Formats are mapped to ``"module:Class"`` strings and imported on first use, so that loading
the config (which only needs the names to validate it) does not import every parser, and a
format with a heavy or broken import only costs the projects that use it.
"""

from __future__ import annotations

import functools
import importlib

from daemon.formats.base import Format

_REGISTRY: dict[str, str] = {
    "json": "daemon.formats.json_format:JsonFormat",
    "i18next": "daemon.formats.i18next_json:I18nextFormat",
    "formatjs": "daemon.formats.formatjs_json:FormatJsFormat",
    "yaml-rails": "daemon.formats.rails_yaml:RailsYamlFormat",
    "yaml": "daemon.formats.plain_yaml:PlainYamlFormat",
    "po": "daemon.formats.gettext_po:GettextPoFormat",
    "xliff": "daemon.formats.xliff:XliffFormat",
    "android": "daemon.formats.android_xml:AndroidStringsFormat",
    "apple-strings": "daemon.formats.apple_strings:AppleStringsFormat",
    "xcstrings": "daemon.formats.xcstrings:XcstringsFormat",
    "arb": "daemon.formats.flutter_arb:FlutterArbFormat",
    "properties": "daemon.formats.java_properties:JavaPropertiesFormat",
    "markdown": "daemon.formats.markdown:MarkdownFormat",
}


def known_formats() -> list[str]:
    """Names accepted by ``get_format``, sorted (for config validation and error messages)."""
    return sorted(_REGISTRY)


@functools.cache
def get_format(name: str) -> Format:
    """The format registered as ``name``; one shared instance, since formats hold no state.

    Raises ``KeyError`` naming the known formats when ``name`` is not one of them.
    """
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known formats: {', '.join(known_formats())}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Format)):
        raise TypeError(f"{target} is not a Format subclass")
    return cls()
