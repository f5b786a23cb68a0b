"""REST surface of the reference engine: auth, validation, shapes, idempotency, listing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from daemon.engine import Engine, EngineSettings
from daemon.engine.translators.pseudo import depseudo
from tests.engine.conftest import API_KEY, RunningEngine, replace_settings, running_engine
from tests.helpers import serve

pytestmark = pytest.mark.anyio

GROUP_ID = re.compile(r"^ljg_[A-Za-z0-9]{16}$")
JOB_ID = re.compile(r"^ljb_[A-Za-z0-9]{16}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_api_key_required(settings: EngineSettings) -> None:
    async with running_engine(replace_settings(settings, api_keys=(API_KEY,))) as eng:
        async with httpx.AsyncClient(base_url=eng.url) as anonymous:
            for method, path in [
                ("POST", "/jobs/localization"),
                ("GET", "/jobs/localization"),
                ("GET", "/jobs/localization/groups/ljg_x"),
                ("GET", "/jobs/localization/ljb_x"),
                ("GET", "/_engine/stats"),
                ("POST", "/_engine/knobs"),
            ]:
                for headers in ({}, {"X-API-Key": ""}, {"X-API-Key": "wrong"}):
                    response = await anonymous.request(method, path, headers=headers, json={})
                    assert response.status_code == 401, (method, path, headers)
                    assert isinstance(response.json()["message"], str)
        await eng.create()  # the configured key works


async def test_any_key_accepted_when_none_configured(eng: RunningEngine) -> None:
    async with httpx.AsyncClient(base_url=eng.url, headers={"X-API-Key": "anything"}) as other:
        assert (await other.get("/jobs/localization")).status_code == 200


BAD_BODIES: list[tuple[Any, str]] = [
    ([], "JSON object"),
    ({"targetLocales": ["de"], "data": {}}, "sourceLocale"),
    ({"sourceLocale": "english!", "targetLocales": ["de"], "data": {}}, "sourceLocale"),
    ({"sourceLocale": "en", "data": {}}, "targetLocales"),
    ({"sourceLocale": "en", "targetLocales": "de", "data": {}}, "targetLocales"),
    ({"sourceLocale": "en", "targetLocales": [], "data": {}}, "targetLocales"),
    ({"sourceLocale": "en", "targetLocales": [f"de-x{i}" for i in range(101)], "data": {}}, "targetLocales"),
    ({"sourceLocale": "en", "targetLocales": ["de", "de"], "data": {}}, "more than once"),
    ({"sourceLocale": "en", "targetLocales": ["de", "EN"], "data": {}}, "source locale"),
    ({"sourceLocale": "en", "targetLocales": ["de_DE"], "data": {}}, "invalid locale"),
    ({"sourceLocale": "en", "targetLocales": [42], "data": {}}, "invalid locale"),
    ({"sourceLocale": "en", "targetLocales": ["de"]}, "data"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": ["x"]}, "data"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "callbackUrl": "ftp://x/y"}, "callbackUrl"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "callbackUrl": 5}, "callbackUrl"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "idempotencyKey": 7}, "idempotencyKey"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "engineId": "abc"}, "engineId"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "lockedKeys": "id"}, "lockedKeys"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "lockedKeys": [""]}, "lockedKeys"),
    ({"sourceLocale": "en", "targetLocales": ["de"], "data": {}, "hints": []}, "hints"),
]


async def test_validation_errors_are_400_with_message(eng: RunningEngine) -> None:
    response = await eng.client.post("/jobs/localization", content=b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]
    for body, fragment in BAD_BODIES:
        response = await eng.client.post("/jobs/localization", json=body)
        assert response.status_code == 400, body
        message = response.json()["message"]
        assert fragment in message, (body, message)
    assert (await eng.stats())["groups_created"] == 0
    ok = [f"de-x{i}" for i in range(100)]  # exactly 100 is allowed
    await eng.create(targetLocales=ok, data={}, unknownField="ignored")


async def test_http_callback_rejected_unless_allowed(settings: EngineSettings) -> None:
    strict = replace_settings(settings, allow_http_callbacks=False)
    async with running_engine(strict) as eng:
        body = await eng.create(expect=400, callbackUrl="http://127.0.0.1:9/hook")
        assert "https" in body["message"]
        await eng.create(callbackUrl="https://example.invalid/hook", targetLocales=["de"])
    async with running_engine(replace_settings(settings, allow_http_callbacks=True)) as eng:
        await eng.create(callbackUrl="http://127.0.0.1:9/hook")


async def test_create_returns_202_with_queued_jobs(eng: RunningEngine) -> None:
    await eng.knob(pause_processing=True)
    body = await eng.create(targetLocales=["de", "fr", "pt-BR"])
    assert set(body) == {"groupId", "status", "jobs", "createdAt"}
    assert GROUP_ID.match(body["groupId"])
    assert body["status"] == "pending"
    assert ISO.match(body["createdAt"])
    assert [j["targetLocale"] for j in body["jobs"]] == ["de", "fr", "pt-BR"]
    assert all(JOB_ID.match(j["id"]) and j["status"] == "queued" for j in body["jobs"])
    assert len({j["id"] for j in body["jobs"]}) == 3
    group = await eng.group(body["groupId"])
    assert group["status"] == "pending"
    assert group["pendingJobs"] == 3
    job = await eng.job(body["jobs"][0]["id"])
    assert job["status"] == "queued"
    assert job["outputData"] is None
    assert job["steps"] == []


async def test_idempotent_replay_returns_existing_group(eng: RunningEngine) -> None:
    first = await eng.create(idempotencyKey="doc-1-v1", targetLocales=["de", "fr"])
    again = await eng.create(idempotencyKey="doc-1-v1", targetLocales=["de", "fr"])
    assert again["groupId"] == first["groupId"]
    assert [j["id"] for j in again["jobs"]] == [j["id"] for j in first["jobs"]]
    stats = await eng.stats()
    assert (stats["groups_created"], stats["idempotent_replays"], stats["idempotency_conflicts"]) == (1, 1, 0)

    conflicting = await eng.create(idempotencyKey="doc-1-v1", targetLocales=["ja"], data={"other": "x"})
    assert conflicting["groupId"] == first["groupId"]
    assert [j["targetLocale"] for j in conflicting["jobs"]] == ["de", "fr"]
    stats = await eng.stats()
    assert (stats["groups_created"], stats["idempotent_replays"], stats["idempotency_conflicts"]) == (1, 2, 1)

    other = await eng.create(idempotencyKey="doc-1-v2")
    assert other["groupId"] != first["groupId"]
    listing = (await eng.client.get("/jobs/localization", params={"limit": 100})).json()
    assert len(listing["items"]) == 4  # two groups of two jobs; the replays created nothing


async def test_group_and_job_views_after_completion(eng: RunningEngine) -> None:
    data = {"title": "Hello {name}", "count": 3, "ok": True, "none": None, "list": ["One", {"x": "Two"}]}
    created = await eng.create(targetLocales=["de", "fr"], data=data, engineId="eng_custom")
    group = await eng.wait_group(created["groupId"])
    assert group["id"] == group["groupId"] == created["groupId"]
    assert group["status"] == "completed"
    assert group["sourceLocale"] == "en"
    assert group["createdAt"] == created["createdAt"]
    assert (group["totalJobs"], group["completedJobs"], group["failedJobs"], group["pendingJobs"]) == (2, 2, 0, 0)
    assert group["completedWithWarningsJobs"] == 0
    assert [(j["targetLocale"], j["status"], j["errorMessage"]) for j in group["jobs"]] == [
        ("de", "completed", None),
        ("fr", "completed", None),
    ]
    job = await eng.job(created["jobs"][1]["id"])
    assert set(job) == {
        "id",
        "groupId",
        "sourceLocale",
        "targetLocale",
        "status",
        "outputData",
        "warnings",
        "steps",
        "errorMessage",
        "createdAt",
        "completedAt",
        "engineId",
    }
    assert (job["groupId"], job["sourceLocale"], job["targetLocale"]) == (created["groupId"], "en", "fr")
    assert job["engineId"] == "eng_custom"
    assert job["status"] == "completed"
    assert job["errorMessage"] is None
    assert job["warnings"] == []
    assert ISO.match(job["completedAt"])
    out = job["outputData"]
    assert out["title"].startswith("⟦fr⟧ ") and out["title"].endswith("{name}")
    assert depseudo(out["title"]) == "Hello {name}"
    assert (out["count"], out["ok"], out["none"]) == (3, True, None)
    assert depseudo(out["list"][1]["x"]) == "Two"
    [step] = job["steps"]
    assert step["stage"] == "localize" and step["status"] == "completed"
    assert ISO.match(step["startedAt"]) and ISO.match(step["completedAt"])

    for path in ("/jobs/localization/groups/ljg_nope", "/jobs/localization/ljb_nope"):
        response = await eng.client.get(path)
        assert response.status_code == 404
        assert "not found" in response.json()["message"]
    assert (await eng.client.get("/no/such/route")).status_code == 404
    assert (await eng.client.delete("/jobs/localization")).status_code == 405


async def test_locked_keys_are_copied_verbatim(eng: RunningEngine) -> None:
    data = {
        "id": "keep-me",
        "title": "Translate me",
        "author": {"id": "author-7", "name": "Ann"},
        "links": {"avatar_url": "https://x/y.png"},
        "tags": ["alpha", "beta"],
    }
    created = await eng.create(targetLocales=["de"], data=data, lockedKeys=["id", "*_url"])
    await eng.wait_group(created["groupId"])
    out = (await eng.job(created["jobs"][0]["id"]))["outputData"]
    assert out["id"] == "keep-me"
    assert out["author"]["id"] == "author-7"
    assert out["links"]["avatar_url"] == "https://x/y.png"
    assert out["author"]["name"].startswith("⟦de⟧")
    assert [depseudo(t) for t in out["tags"]] == ["alpha", "beta"]
    assert out["tags"][0] != "alpha"


async def test_list_walks_every_job_with_cursor_and_filters(eng: RunningEngine) -> None:
    await eng.knob(fail_locales=["de-x003", "de-x050"])
    big = await eng.create(targetLocales=[f"de-x{i:03d}" for i in range(100)], engineId="eng_a")
    small = await eng.create(targetLocales=[f"fr-x{i:03d}" for i in range(30)], engineId="eng_b")
    await eng.wait_group(big["groupId"])
    await eng.wait_group(small["groupId"])

    async def walk(**params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = await eng.client.get("/jobs/localization", params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            assert set(page) == {"items", "nextCursor"}
            assert len(page["items"]) <= int(params.get("limit", 20))
            items.extend(page["items"])
            cursor = page["nextCursor"]
            if cursor is None:
                return items

    everything = await walk(limit=7)
    assert len(everything) == 130
    assert len({i["id"] for i in everything}) == 130
    keys = [(i["createdAt"], i["id"]) for i in everything]
    assert keys == sorted(keys, reverse=True)  # newest first, ties broken by id
    assert {i["groupId"] for i in everything[:30]} == {small["groupId"]}  # the newer group comes first
    assert set(everything[0]) == {"id", "groupId", "targetLocale", "status", "warnings", "createdAt", "completedAt"}

    assert len(await walk()) == 130  # default limit 20
    assert len(await walk(limit=100)) == 130
    only_a = await walk(limit=33, engineId="eng_a")
    assert len(only_a) == 100 and {i["groupId"] for i in only_a} == {big["groupId"]}
    failed = await walk(limit=1, status="failed")
    assert sorted(i["targetLocale"] for i in failed) == ["de-x003", "de-x050"]
    assert await walk(engineId="eng_b", status="failed") == []
    assert len(await walk(engineId="eng_a", status="completed", limit=100)) == 98

    first = (await eng.client.get("/jobs/localization")).json()
    assert len(first["items"]) == 20 and isinstance(first["nextCursor"], str)
    for params in ({"limit": "101"}, {"limit": "0"}, {"limit": "x"}, {"cursor": "%%%"}, {"cursor": "bm9wZQ"}):
        response = await eng.client.get("/jobs/localization", params=params)
        assert response.status_code == 400, params
        assert response.json()["message"]
    response = await eng.client.get("/jobs/localization", params={"status": "done"})
    assert response.status_code == 400


async def test_knobs_endpoint(eng: RunningEngine) -> None:
    knobs = await eng.knob(latency_seconds=0.01, fail_locales=["ja"], delivery_retry_delays=[0.1, 1], seed=7)
    assert knobs["latency_seconds"] == 0.01
    assert knobs["fail_locales"] == ["ja"]
    assert knobs["delivery_retry_delays"] == [0.1, 1]
    assert eng.knobs.fail_locales == {"ja"}
    assert eng.knobs.delivery_retry_delays == (0.1, 1.0)
    assert (await eng.client.get("/_engine/knobs")).json() == knobs
    for bad in ({"nope": 1}, {"fail_rate": 2}, {"pause_processing": "yes"}, {"latency_seconds": -1}):
        response = await eng.client.post("/_engine/knobs", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["message"]
    assert eng.knobs.fail_rate == 0  # a rejected update changes nothing
    stats = await eng.stats()
    assert set(stats) >= {
        "groups_created",
        "idempotent_replays",
        "idempotency_conflicts",
        "jobs_completed",
        "jobs_failed",
        "deliveries_attempted",
        "deliveries_succeeded",
        "deliveries_failed",
        "deliveries_pending",
    }


async def test_mounted_under_a_prefix(settings: EngineSettings) -> None:
    engine = Engine(settings)
    outer = Starlette(routes=[Mount("/engine", app=engine.app)])
    async with serve(outer) as url, httpx.AsyncClient(base_url=url + "/engine", headers={"X-API-Key": "k"}) as client:
        response = await client.get("/jobs/localization")
        assert response.status_code == 503  # served before start(): answers, but is not running
        await engine.start()
        try:
            running = RunningEngine(engine, url + "/engine", client)
            created = await running.create()
            group = await running.wait_group(created["groupId"])
            assert group["status"] == "completed"
        finally:
            await engine.stop()
