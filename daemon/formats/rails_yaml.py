"""Rails-style YAML (``config/locales/*.yml``): one root key naming the locale, the keys below it.

The parsing and writing engine is ``daemon.formats.plain_yaml`` (libyaml events for positions,
hand-written splicing of the original text for writing; its docstring says why ruamel.yaml's
round-trip dump is not used), with its node tree in ``daemon.formats._yaml_read``. This module
only adds the locale root:

- Keys are paths below the root: ``en: activerecord: errors: messages: blank:`` gives
  ``activerecord/errors/messages/blank``. Rails plurals stay ordinary nested keys
  (``items/one``, ``items/other``); no ``#<form>`` segments are needed.
- The root is the top-level key equal to the file's locale (``pt-BR`` also matches ``pt_BR``),
  else the only top-level key, else the first one: a file with several locales, such as
  minimal-mistakes' ``ui-text.yml``, is read through the root of the locale it is parsed with,
  and its other roots are kept untouched.
- A root that holds nothing (``de:``) or only a merge of another locale (``de-AT: *DE``,
  ``<<: *DE``) has no entries of its own; writing keys into it keeps the merge
  (``<<: *DE`` first, then the new keys).
- A new target (no target file yet) is the source text with the root key renamed to the
  target locale (``en:`` becomes ``de:``) and every value replaced; an existing target keeps
  its own root name, whatever locale it is written for.
"""

from __future__ import annotations

from typing import ClassVar

from daemon.formats._text import ParseFailure
from daemon.formats._yaml_read import AliasNode, MapNode, Node, Pair, ScalarNode, YamlLayout
from daemon.formats.plain_yaml import PlainYamlFormat


def _normalized(locale: str) -> str:
    return locale.replace("_", "-").lower()


def _pick(top: MapNode, locale: str | None) -> tuple[str, Pair] | None:
    """The root pair: the locale's own key, else the only key, else the first key."""
    if not top.pairs:
        return None
    if locale is not None:
        if locale in top.pairs:
            return locale, top.pairs[locale]
        for name, pair in top.pairs.items():
            if _normalized(name) == _normalized(locale):
                return name, pair
    name = next(iter(top.pairs))
    return name, top.pairs[name]


class RailsYamlFormat(PlainYamlFormat):
    """Rails i18n YAML: ``<locale>:`` at the top, translations below it."""

    name: ClassVar[str] = "yaml-rails"
    extensions: ClassVar[tuple[str, ...]] = (".yml", ".yaml")

    def select_root(self, top: Node | None, locale: str | None) -> tuple[str | None, Pair | None, MapNode | None]:
        _, _, mapping = super().select_root(top, locale)
        picked = _pick(mapping, locale) if mapping is not None else None
        if picked is None:
            return None, None, None
        name, pair = picked
        value = pair.value
        if isinstance(value, MapNode):
            return name, pair, value
        if isinstance(value, AliasNode) and isinstance(value.target, MapNode):
            return name, pair, None  # an alias of another locale: nothing of its own
        if isinstance(value, ScalarNode) and value.leaf is None:
            return name, pair, None
        raise ParseFailure(value.start, f"the locale key {name!r} must hold a mapping")

    def root_name(
        self, layout: YamlLayout, source: YamlLayout | None, locale: str | None, new_file: bool
    ) -> str | None:
        if layout.root_pair is not None:
            return locale if new_file and locale and locale != layout.root_key else None
        name = locale or (source.root_key if source is not None else None)
        if name is None:
            raise ValueError("a locale is needed to write the root key of a new Rails YAML file")
        return name
