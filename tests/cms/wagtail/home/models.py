"""The page type the daemon translates: a title, a plain-text intro and a rich-text body.

Every field the daemon writes must be ``APIField(..., writable=True)``: API v3 silently drops
the others on POST and PATCH. ``latest_revision_created_at`` is exposed so the feed can order
pages by their last edit (it is Wagtail's own column, read-only).
"""
from __future__ import annotations

from django.db import models
from wagtail.api import APIField
from wagtail.fields import RichTextField
from wagtail.models import Page


class ArticlePage(Page):
    intro = models.CharField(max_length=500, blank=True)
    body = RichTextField(blank=True)

    api_fields = [  # noqa: RUF012 (Wagtail reads a plain list)
        APIField("title", writable=True),
        APIField("intro", writable=True),
        APIField("body", writable=True),
        APIField("latest_revision_created_at"),
        APIField("last_published_at"),
    ]
