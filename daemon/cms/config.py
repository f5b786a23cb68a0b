"""The ``cms:`` block of a source: which CMS, which entries, which fields, how to reach it.

``kind: strapi`` needs only the base URL and the collection; ``kind: http`` spells out the
same requests as URL templates and JSON paths, so a CMS without an adapter can be wired up
from YAML alone (``daemon.cms.feed`` runs both).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False)


class CmsField(_Model):
    """A translatable field: a dotted path in the entry (``seo.description``) and how to segment it."""

    path: str
    kind: Literal["text", "markdown", "blocks"] = "text"
    """``markdown``: long rich text split into blocks like a Markdown file, one key per block;
    ``blocks``: Strapi's JSON rich text, one key per paragraph, heading or list item."""

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value or any(not part for part in value.split(".")):
            raise ValueError(f"'{value}' is not a field path; expected names joined by dots, e.g. 'seo.description'")
        return value


def _field_shorthand(value: object) -> object:
    """``title`` is short for ``{path: title}``."""
    return {"path": value} if isinstance(value, str) else value


class HttpFeedConfig(_Model):
    """The requests of a generic CMS, as templates.

    URL templates are relative to ``baseUrl`` (or absolute) and may use ``{locale}``, ``{id}``,
    ``{cursor}`` (the last ``updatedAt`` seen, minus the overlap window), ``{page}`` (from 1) and
    ``{pageSize}``; values are URL-encoded. JSON paths are dotted (``data``, ``meta.items``);
    an empty path is the whole body.
    """

    list_url: str
    items: str = "data"
    id: str = "id"
    updated_at: str = "updatedAt"
    page_size: int = Field(default=100, gt=0, le=1000)
    read_url: str
    read_target_url: str | None = None
    """Where a translation is read (to compare with what we wrote); defaults to ``readUrl``."""
    entry: str = "data"
    write_url: str
    write_method: Literal["PUT", "PATCH", "POST"] = "PUT"
    write_wrap: str = "data"
    """The body is ``{writeWrap: {field: value}}``; empty: the fields alone."""


class CmsConfig(_Model):
    """Where a CMS source's entries come from and go back to."""

    kind: Literal["strapi", "http", "wagtail"]
    base_url: str
    collection: str | None = None
    """Strapi: the collection's plural API id (``articles`` for ``/api/articles``)."""
    page_type: str | None = None
    """Wagtail: the page type to translate, as ``app_label.ModelName`` (``home.ArticlePage``)."""
    fields: list[Annotated[CmsField, BeforeValidator(_field_shorthand)]] = Field(min_length=1)
    query: dict[str, str] = {}
    """Extra query parameters of the feed, to translate only some entries
    (Strapi: ``{"filters[category][slug][$eq]": "blog"}``)."""
    api_token_env: str | None = None
    api_token_file: str | None = None
    api_token_credential: str | None = None
    webhook_secret_env: str | None = None
    webhook_secret_file: str | None = None
    webhook_secret_credential: str | None = None
    webhook_header: str = "X-Hook-Secret"
    """The header carrying the shared secret (Strapi: any header you configure on the webhook)."""
    poll_seconds: float = Field(default=30.0, gt=0)
    overlap_seconds: float = Field(default=5.0, ge=0)
    """Each poll asks again for this much before the cursor: a change committed with an older
    timestamp than one already seen is still found; what was seen is not processed twice."""
    read_status: Literal["published", "draft"] = "published"
    """Strapi: translate what is published (default) or the latest draft."""
    write_status: Literal["draft", "published"] = "draft"
    """Strapi: write translations as drafts for review (default) or publish them at once."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    mirror: str | None = None
    """Also write each translation locsync puts into the CMS as a JSON file in the repository,
    committed like any target (``cms/[locale]/{id}.json``), so translations can be reviewed as
    commits. One way: the CMS stays the source of truth."""
    http: HttpFeedConfig | None = None

    @field_validator("mirror")
    @classmethod
    def _mirror(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "[locale]" not in value or "{id}" not in value:
            raise ValueError(f"'{value}' needs both '[locale]' and '{{id}}', e.g. 'cms/[locale]/{{id}}.json'")
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError(f"'{value}' must be relative to the content root and stay inside it")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[CmsField]) -> list[CmsField]:
        paths = [item.path for item in value]
        if len(set(paths)) != len(paths):
            raise ValueError("fields must not repeat")
        return value

    @model_validator(mode="after")
    def _kind(self) -> CmsConfig:
        if self.kind == "strapi" and not self.collection:
            raise ValueError("kind 'strapi' needs 'collection', the plural API id (e.g. 'articles')")
        if self.kind == "wagtail" and not self.page_type:
            raise ValueError(
                "kind 'wagtail' needs 'pageType', the page model as app_label.ModelName (e.g. 'home.ArticlePage')"
            )
        if self.kind == "http" and self.http is None:
            raise ValueError("kind 'http' needs an 'http' block with listUrl, readUrl and writeUrl")
        return self

    @property
    def field_specs(self) -> list[CmsField]:
        return list(self.fields)
