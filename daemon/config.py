"""The YAML config file: parsed once into frozen, validated models.

Every problem is reported at once with the file, the line and the key path, and what
was expected (``locsync.yaml:14: sources.0.format: unknown format 'jsn'; expected one
of: json``). Line numbers come from PyYAML's node marks, so the file is composed once
for positions and loaded once (``safe_load`` semantics only) for values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from daemon.cms.config import CmsConfig
from daemon.errors import ConfigError, ConfigProblem

LOCALE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
LOCALE_PLACEHOLDER = "[locale]"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False)


def _check_locale(value: str) -> str:
    if not LOCALE_PATTERN.match(value):
        raise ValueError(f"'{value}' is not a locale code; expected a BCP-47 tag such as 'de' or 'pt-BR'")
    return value


class SourceConfig(_Model):
    """One group of files that share a format and locales."""

    name: str | None = None
    format: str = "json"
    include: list[str] = []
    cms: CmsConfig | None = None
    """A headless CMS instead of files (``daemon.cms``); ``include`` and ``format`` do not apply."""
    source_locale: str
    target_locales: list[str] = Field(min_length=1)
    path_locales: dict[str, str] = {}
    """How a locale is spelled in paths when it differs from its code: ``{en: ""}`` for Android's
    ``values/`` or Java's ``messages.properties``, ``{pt-BR: pt-rBR}`` for Android regions."""
    locked_keys: list[str] = []
    ignored_keys: list[str] = []
    preserved_keys: list[str] = []

    @field_validator("source_locale")
    @classmethod
    def _source_locale(cls, value: str) -> str:
        return _check_locale(value)

    @field_validator("target_locales")
    @classmethod
    def _target_locales(cls, value: list[str]) -> list[str]:
        for item in value:
            _check_locale(item)
        if len(set(value)) != len(value):
            raise ValueError("target locales must not repeat")
        return value

    @field_validator("include")
    @classmethod
    def _include(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if pattern.startswith("/") or ".." in Path(pattern).parts:
                raise ValueError(f"'{pattern}' must be relative to the content root and stay inside it")
        return value

    @field_validator("path_locales")
    @classmethod
    def _path_locales(cls, value: dict[str, str]) -> dict[str, str]:
        for locale, spelled in value.items():
            _check_locale(locale)
            if "/" in spelled or "\\" in spelled or spelled in (".", ".."):
                raise ValueError(f"'{spelled}' (for {locale}) must be a plain path fragment without slashes")
        return value

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        from daemon.formats import known_formats

        known = known_formats()
        if value not in known:
            raise ValueError(f"unknown format '{value}'; expected one of: {', '.join(known)}{_did_you_mean(value, known)}")
        return value

    @field_validator("locked_keys", "ignored_keys", "preserved_keys")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        from daemon.keyrules import validate_pattern

        for pattern in value:
            problem = validate_pattern(pattern)
            if problem:
                raise ValueError(f"'{pattern}': {problem}")
        return value

    @model_validator(mode="after")
    def _placeholder(self) -> SourceConfig:
        from daemon.formats import get_format

        if self.cms is not None:
            if self.include:
                raise ValueError("a source reads either files ('include') or a CMS ('cms'), not both")
            if self.name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
                raise ValueError(f"name '{self.name}' of a CMS source may use letters, digits, '_', '.' and '-' only")
            return self
        if not self.include:
            raise ValueError("a source needs 'include' (file patterns such as 'locales/[locale].json') or 'cms'")
        if get_format(self.format).multi_locale:
            return self
        for pattern in self.include:
            if LOCALE_PLACEHOLDER not in pattern:
                raise ValueError(
                    f"include '{pattern}' has no '{LOCALE_PLACEHOLDER}' placeholder, e.g. 'locales/[locale].json' "
                    f"(only formats holding every locale in one file, like xcstrings, go without)"
                )
        return self

    @model_validator(mode="after")
    def _source_not_target(self) -> SourceConfig:
        if self.source_locale in self.target_locales:
            raise ValueError(f"the source locale '{self.source_locale}' cannot also be a target locale")
        return self

    @property
    def label(self) -> str:
        if self.cms is not None:
            return self.name or self.cms.collection or "cms"
        return self.name or self.include[0]


class ProviderConfig(_Model):
    """Where jobs go: ``embedded`` (the reference engine, in-process) or ``lingo`` (Lingo.dev)."""

    kind: Literal["embedded", "lingo"] = "embedded"
    base_url: str = "https://api.lingo.dev"
    api_key_env: str | None = "LINGO_API_KEY"
    api_key_file: str | None = None
    api_key_credential: str | None = "api-key"
    webhook_secret_env: str | None = "LOCSYNC_WEBHOOK_SECRET"
    webhook_secret_file: str | None = None
    webhook_secret_credential: str | None = "webhook-secret"
    engine_id: str | None = None
    # send http:// callback URLs (only the reference engine accepts them; Lingo.dev requires https)
    allow_http_callback: bool = False
    # reference engine settings (kind: embedded)
    translator: Literal["pseudo", "openai"] = "pseudo"
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.2"
    openai_api_key_env: str | None = None
    latency_seconds: float = Field(default=0.0, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("base_url", "openai_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/")


class ServerConfig(_Model):
    """The embedded HTTP server that receives webhooks."""

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    public_url: str | None = None
    max_body_bytes: int = Field(default=1_048_576, gt=0)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/") if value else value


class StateConfig(_Model):
    path: str = ".locsync/state.db"


class GitConfig(_Model):
    enabled: bool = True
    author_name: str = "locsync"
    author_email: str = "locsync@localhost"
    message: str = "locsync: update {document} ({locales})"
    batch_seconds: float = Field(default=1.0, ge=0)
    skip_ci: bool = False


class SyncConfig(_Model):
    """Timing of the daemon's loops."""

    debounce_ms: int = Field(default=300, ge=0)
    poll_seconds: float = Field(default=30.0, gt=0)
    polling_mode_seconds: float = Field(default=2.0, gt=0)
    max_deletion_share: float = Field(default=0.5, gt=0, le=1)


class Config(_Model):
    """The whole config file."""

    root: str = "."
    sources: list[SourceConfig] = Field(min_length=1)
    provider: ProviderConfig = ProviderConfig()
    server: ServerConfig = ServerConfig()
    state: StateConfig = StateConfig()
    git: GitConfig = GitConfig()
    sync: SyncConfig = SyncConfig()

    @field_validator("sources")
    @classmethod
    def _cms_names(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        """A CMS source's name keys its cursor and its document ids: two must never share one."""
        first: dict[str, int] = {}
        for index, source in enumerate(value):
            if source.cms is None:
                continue
            if source.label in first:
                raise ValueError(
                    f"sources.{index}: the CMS source name '{source.label}' is already used by "
                    f"sources.{first[source.label]}; give each CMS source its own 'name'"
                )
            first[source.label] = index
        return value


class LoadedConfig:
    """A validated config plus the paths it resolves against."""

    def __init__(self, config: Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.base = path.parent

    @property
    def root(self) -> Path:
        return (self.base / self.config.root).resolve()

    @property
    def state_path(self) -> Path:
        return (self.base / self.config.state.path).resolve()


def load_config(path: Path) -> LoadedConfig:
    """Read, parse and validate ``path``; raise ``ConfigError`` listing every problem."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(shown, [ConfigProblem(None, "", "file not found; pass --config or create locsync.yaml")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, [ConfigProblem(None, "", f"cannot read: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(shown, [ConfigProblem(line, "", f"invalid YAML: {problem}")]) from None
    if not isinstance(data, dict):
        raise ConfigError(shown, [ConfigProblem(1, "", "expected a mapping with at least a 'sources' list")])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(shown, [_problem(node, error) for error in exc.errors()]) from None
    return LoadedConfig(config, path)


def _problem(root: yaml.Node | None, error: Any) -> ConfigProblem:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        parent = _node_at(root, loc[:-1])
        known = _known_fields(loc[:-1])
        message = f"unknown key{_did_you_mean(str(loc[-1]), known)}"
        if known:
            message += f"; expected one of: {', '.join(known)}"
        node = _key_node(parent, str(loc[-1]))
    else:
        node = _node_at(root, loc)
        if node is None:
            node = _node_at(root, loc[:-1])
    line = node.start_mark.line + 1 if node is not None else None
    return ConfigProblem(line, ".".join(str(part) for part in loc), message)


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return k  # type: ignore[no-any-return]
    return node


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(_snake(part))
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        model = args[0] if args else annotation
        if get_origin(model) is Annotated:  # list[Annotated[Model, validator]]
            model = get_args(model)[0]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return [to_camel(name) for name in model.model_fields]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _did_you_mean(value: str, options: list[str]) -> str:
    import difflib  # only a config error needs it

    close = difflib.get_close_matches(value, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
