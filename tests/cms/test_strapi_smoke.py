"""Smoke tests against a real Strapi 5 (tests/cms/strapi): what the CMS source will rely on.

- drafts, publishing, and a localized version of the same document (``PUT ...?locale=de``);
- the change feed ``GET /api/articles?locale=*&status=draft&filters[updatedAt][$gt]=T``;
- webhooks (``entry.create/update/publish``) received on a Starlette app on real uvicorn;
- telling an API-token write from an admin (content-manager) write.

One Strapi serves the session, so each test makes its own documents (unique slugs) and never
assumes the collection is empty.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.cms.strapi_fixture import StrapiEndpoint, StrapiInstance
from tests.helpers import serve, wait_until_async

pytestmark = [pytest.mark.anyio, pytest.mark.strapi]

ARTICLES = "/api/articles"
CM_ARTICLES = "/content-manager/collection-types/api::article.article"
_unique = itertools.count()


def slug(stem: str) -> str:
    return f"{stem}-{time.time_ns()}-{next(_unique)}"


@asynccontextmanager
async def content_api(endpoint: StrapiEndpoint) -> AsyncIterator[httpx.AsyncClient]:
    """The daemon's view: the content API with the full-access API token."""
    url, token = endpoint
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        yield client


@asynccontextmanager
async def admin_api(strapi: StrapiInstance) -> AsyncIterator[httpx.AsyncClient]:
    """An editor's view: the admin API with the admin's JWT (content-manager, webhooks)."""
    headers = {"Authorization": f"Bearer {strapi.admin_jwt}"}
    async with httpx.AsyncClient(base_url=strapi.url, headers=headers, timeout=30) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}"
    )
    body: dict[str, Any] = response.json()
    return body


async def create_draft(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = ok(await api.post(ARTICLES, params={"status": "draft"}, json={"data": fields}), 201)
    entry: dict[str, Any] = body["data"]
    return entry


async def put(api: httpx.AsyncClient, doc: str, data: dict[str, Any], **params: str) -> dict[str, Any]:
    """``PUT /api/articles/<documentId>``: update, publish (status=published), or write a locale."""
    entry: dict[str, Any] = ok(await api.put(f"{ARTICLES}/{doc}", params=params, json={"data": data}))["data"]
    return entry


async def get(client: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    entry: dict[str, Any] = ok(await client.get(path, params=params))["data"]
    return entry


async def feed(api: httpx.AsyncClient, since: str, **extra: str) -> list[dict[str, Any]]:
    """The change feed the daemon will poll: all locales, draft rows (they hold the latest edits)."""
    params = {
        "locale": "*",
        "status": "draft",
        "filters[updatedAt][$gt]": since,
        "sort[0]": "updatedAt:asc",
        "sort[1]": "id:asc",
        "pagination[pageSize]": "100",
        **extra,
    }
    body = ok(await api.get(ARTICLES, params=params))
    rows: list[dict[str, Any]] = body["data"]
    assert body["meta"]["pagination"]["total"] == len(rows), "the feed needs paging"
    return rows


async def test_provisioned(strapi_instance: StrapiInstance, strapi: StrapiEndpoint) -> None:
    url, token = strapi
    assert url.startswith("http://127.0.0.1:")
    assert token and token != strapi_instance.admin_jwt
    assert strapi_instance.locales[0] == "en"
    assert set(strapi_instance.locales) == {"en", "de", "fr"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as anonymous:
        assert (await anonymous.get(ARTICLES)).status_code == 403  # the public role may read nothing
    async with content_api(strapi) as api:
        body = ok(await api.get(ARTICLES, params={"locale": "*"}))
        assert "pagination" in body["meta"]


async def test_draft_publish_localize_and_change_feed(strapi: StrapiEndpoint) -> None:
    async with content_api(strapi) as api:
        page = slug("hello-world")
        draft = await create_draft(api, title="Hello world", body="# Hello\n\nSome **body** text.", slug=page)
        doc = draft["documentId"]
        assert draft["locale"] == "en"  # the default locale
        assert draft["publishedAt"] is None
        assert (await api.get(f"{ARTICLES}/{doc}")).status_code == 404  # nothing published yet

        # publishing: PUT with status=published (the REST content API has no separate publish action)
        published = await put(api, doc, {}, status="published")
        assert published["documentId"] == doc
        assert published["publishedAt"] is not None
        assert published["id"] != draft["id"]  # the published version is its own row
        live = await get(api, f"{ARTICLES}/{doc}")
        assert live["title"] == "Hello world" and live["slug"] == page

        # the cursor: the latest change so far (the en draft was touched by publishing)
        before_de = (await feed(api, draft["createdAt"], **{"filters[documentId][$eq]": doc}))[-1]["updatedAt"]

        # write-back: the de version of the same document; without ?status it is published at once
        de = await put(api, doc, {"title": "Hallo Welt", "body": "# Hallo\n\nEtwas **Text**."}, locale="de")
        assert de["documentId"] == doc and de["locale"] == "de"
        assert de["publishedAt"] is not None
        assert de["slug"] is None  # the non-localized uid is NOT copied into a new locale
        assert (await get(api, f"{ARTICLES}/{doc}", locale="de"))["title"] == "Hallo Welt"
        assert (await api.get(f"{ARTICLES}/{doc}", params={"locale": "fr"})).status_code == 404

        # the change feed since the cursor: the de row and nothing older, for every document
        changed = await feed(api, before_de)
        assert all(row["updatedAt"] > before_de for row in changed)
        mine = [(row["documentId"], row["locale"]) for row in changed if row["documentId"] == doc]
        assert mine == [(doc, "de")]
        assert all(row["publishedAt"] is None for row in changed)  # status=draft returns draft rows
        # $gt is strict: a cursor equal to the last change returns it no more (ties need an overlap window)
        assert [r for r in await feed(api, de["updatedAt"]) if r["documentId"] == doc] == []
        assert [
            (r["documentId"], r["locale"])
            for r in await feed(api, before_de, **{"filters[updatedAt][$gte]": de["updatedAt"]})
            if r["documentId"] == doc
        ] == [(doc, "de")]

        # an edit of the source draft shows up again, as one row per (document, locale)
        edit = await put(api, doc, {"title": "Hello world v2"}, status="draft")
        assert edit["locale"] == "en" and edit["publishedAt"] is None
        again = [
            (r["documentId"], r["locale"], r["title"])
            for r in await feed(api, de["updatedAt"])
            if r["documentId"] == doc
        ]
        assert again == [(doc, "en", "Hello world v2")]
        # the published version keeps the old title until the next publish
        assert (await get(api, f"{ARTICLES}/{doc}"))["title"] == "Hello world"


async def test_webhooks_reach_a_starlette_receiver(strapi_instance: StrapiInstance, strapi: StrapiEndpoint) -> None:
    received: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), json.loads(await request.body())))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hooks/strapi", hook, methods=["POST"])])
    async with serve(app) as receiver, admin_api(strapi_instance) as admin, content_api(strapi) as api:
        events = ["entry.create", "entry.update", "entry.delete", "entry.publish", "entry.unpublish"]
        webhook = (
            ok(
                await admin.post(
                    "/admin/webhooks",
                    json={
                        "name": "locsync-smoke",
                        "url": f"{receiver}/hooks/strapi",
                        "headers": {"X-Locsync-Source": "strapi-smoke"},
                        "events": events,
                    },
                ),
                201,
            )
        )["data"]
        try:
            draft = await create_draft(api, title="Hook me", body="Body", slug=slug("hook-me"))
            doc = draft["documentId"]
            await put(api, doc, {"title": "Hook me (2)"}, status="draft")
            await put(api, doc, {}, status="published")
            await put(api, doc, {"title": "Hak mich"}, locale="de")

            def seen() -> list[tuple[str, str]]:
                return [
                    (body["event"], body["entry"]["locale"])
                    for _, body in received
                    if body["entry"]["documentId"] == doc
                ]

            expected = [
                ("entry.create", "en"),  # the draft
                ("entry.update", "en"),  # the draft edit
                ("entry.update", "en"),  # publishing touches the draft row too
                ("entry.publish", "en"),
                ("entry.create", "de"),  # the localized write: created, then published at once
                ("entry.publish", "de"),
            ]
            await wait_until_async(lambda: len(seen()) >= len(expected), timeout=20)
            assert sorted(seen()) == sorted(expected)
        finally:
            ok(await admin.delete(f"/admin/webhooks/{webhook['id']}"))

    for headers, body in received:
        # Strapi sends no signature, timestamp or delivery id: only static headers authenticate it
        assert headers["x-strapi-event"] == body["event"]
        assert headers["x-hook-secret"] == strapi_instance.webhook_secret  # server.webhooks.defaultHeaders
        assert headers["x-locsync-source"] == "strapi-smoke"  # the webhook's own headers
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"] == "node"
        assert not any("signature" in name for name in headers)
        assert set(body) == {"event", "createdAt", "model", "uid", "entry"}
        assert body["model"] == "article" and body["uid"] == "api::article.article"
        entry = body["entry"]
        fields = {"id", "documentId", "locale", "title", "body", "slug", "createdAt", "updatedAt", "publishedAt"}
        assert fields <= set(entry)
        assert "createdBy" not in entry and "updatedBy" not in entry  # no actor in the payload
        assert (entry["publishedAt"] is not None) == (body["event"] == "entry.publish")


async def test_api_token_write_vs_admin_write(strapi_instance: StrapiInstance, strapi: StrapiEndpoint) -> None:
    """Admin (content-manager) writes record the admin user in createdBy/updatedBy; API-token writes
    record nobody. That is visible through the admin API only: the content API refuses the fields."""
    async with content_api(strapi) as api, admin_api(strapi_instance) as admin:
        draft = await create_draft(api, title="Who wrote me", body="Source", slug=slug("who"))
        doc = draft["documentId"]
        # the token writes de, an editor writes fr in the admin (content-manager API, fields unwrapped)
        await put(api, doc, {"title": "Wer"}, locale="de", status="draft")
        edited = await admin.put(
            f"{CM_ARTICLES}/{doc}", params={"locale": "fr"}, json={"title": "Qui", "body": "Édité"}
        )
        fr = ok(edited)["data"]
        assert fr["locale"] == "fr" and fr["publishedAt"] is None  # the admin saves drafts

        def actor(entry: dict[str, Any]) -> int | None:
            user = entry.get("updatedBy")
            return None if user is None else int(user["id"])

        by_locale: dict[str, tuple[int | None, bool]] = {}
        for locale in ("en", "de", "fr"):
            entry = await get(admin, f"{CM_ARTICLES}/{doc}", locale=locale)
            by_locale[locale] = (actor(entry), entry["createdBy"] is None)
        assert by_locale == {"en": (None, True), "de": (None, True), "fr": (strapi_instance.admin_id, False)}

        # the content API (the daemon's token) cannot see who wrote what
        for param in ("populate", "fields[0]"):
            refused = await api.get(ARTICLES, params={"locale": "*", "status": "draft", param: "updatedBy"})
            assert refused.status_code == 400, refused.text
            assert "Invalid key updatedBy" in refused.text
        rows = await feed(api, draft["createdAt"], **{"filters[documentId][$eq]": doc})
        assert {r["locale"] for r in rows} == {"de", "fr"}
        assert all("updatedBy" not in r for r in rows)
