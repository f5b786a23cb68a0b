"""A battery of hostile webhook deliveries against the daemon's real HTTP app.

Every delivery is either rejected (4xx) or, when authentic but unusable, set aside with a
logged reason; none may write a file. The test prints ``tried, rejected, set aside, written``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import structlog

from daemon.runtime import wired
from daemon.webhooks.signatures import signed_headers
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio
NEW = "whsec_" + "TkVXLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHMtMzI="
OLD = "whsec_" + "T0xELXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHMtMzI="
FORGED = "whsec_" + "Rk9SR0VELXNlY3JldC1ub2JvZHktaGFzLXRoaXMtMzI="


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and ".git/" not in str(p) and ".locsync" not in str(p)}


async def test_hostile_deliveries_are_rejected_or_set_aside_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINGO_API_KEY", "unused")
    monkeypatch.setenv("LOCSYNC_WEBHOOK_SECRET", f"{NEW} {OLD}")  # a roll-over: both are valid
    provider = {"kind": "lingo", "baseUrl": "http://127.0.0.1:9", "allowHttpCallback": True}
    loaded = make_project(tmp_path / "repo", {"greeting": "Hello"}, provider=provider)
    async with wired(loaded) as wiring:
        # one job we did submit (recorded as if the provider had answered), for the locale de
        wiring.store.add_submission("locales/[locale].json", 1, "k1", {"targetLocales": ["de"]}, {"de": {}})
        (sub,) = wiring.store.pending_submissions()
        wiring.store.submission_accepted(sub, "ljg_ours", [("ljb_ours", "de", "queued")])
        before = snapshot(loaded.root)
        now = int(time.time())

        def event(**fields: object) -> bytes:
            base = {"type": "translation.completed", "jobId": "ljb_ours", "groupId": "ljg_ours",
                    "sourceLocale": "en", "targetLocale": "de", "data": {"greeting": "Hallo"}}
            return json.dumps({**base, **fields}).encode()

        body = event()
        cases: list[tuple[str, bytes, dict[str, str], str]] = [
            ("forged secret", body, signed_headers(FORGED, "m1", now, body), "application/json"),
            ("stale timestamp", body, signed_headers(NEW, "m2", now - 3600, body), "application/json"),
            ("future timestamp", body, signed_headers(NEW, "m3", now + 3600, body), "application/json"),
            ("tampered body", event(data={"greeting": "pwned"}), signed_headers(NEW, "m4", now, body), "application/json"),
            ("no headers", body, {}, "application/json"),
            ("garbled signature", body, {**signed_headers(NEW, "m5", now, body), "webhook-signature": "v1,,,"}, "application/json"),
            ("bad base64", body, {**signed_headers(NEW, "m6", now, body), "webhook-signature": "v1,%%%"}, "application/json"),
            ("id with a dot", body, signed_headers(NEW, "m.7", now, body), "application/json"),
            ("wrong content type", body, signed_headers(NEW, "m8", now, body), "text/plain"),
            ("oversized", b"{" + b" " * 1_100_000 + b"}", signed_headers(NEW, "m9", now, b"{}"), "application/json"),
            ("not JSON but signed", b"not json", signed_headers(NEW, "m10", now, b"not json"), "application/json"),
        ]
        authentic = [
            ("job we never submitted", event(jobId="ljb_not_ours")),
            ("locale escaping the folder", event(targetLocale="../../etc/passwd")),
            ("absolute locale path", event(targetLocale="/etc/passwd")),
            ("NUL in locale", event(targetLocale="de\x00")),
            ("unknown event type", event(type="translation.exploded")),
            ("completed without data", event(data=None)),
        ]
        tried = rejected = set_aside = 0
        async with httpx.AsyncClient() as client:
            for name, payload, headers, content_type in cases:
                tried += 1
                response = await client.post(f"{wiring.base_url}/webhooks/lingo", content=payload,
                                             headers={**headers, "content-type": content_type})
                assert 400 <= response.status_code < 500, name
                assert response.status_code != 500
                rejected += 1
            for index, (name, payload) in enumerate(authentic):
                tried += 1
                secret = OLD if index % 2 else NEW  # both secrets of the roll-over are accepted
                response = await client.post(f"{wiring.base_url}/webhooks/lingo", content=payload,
                                             headers={**signed_headers(secret, f"a{index}", now, payload),
                                                      "content-type": "application/json"})
                assert response.status_code == 200, name
        with structlog.testing.capture_logs() as logs:
            await wiring.syncer.process_inbox()
            await wiring.syncer.apply_received()
        set_aside = sum(1 for e in logs if e["event"] == "webhook_set_aside")
        after = snapshot(loaded.root)
        written = sum(1 for k in after if before.get(k) != after[k]) + sum(1 for k in before if k not in after)
        print(f"tried={tried} rejected={rejected} set_aside={set_aside} written={written}")
        assert (rejected, set_aside, written) == (len(cases), len(authentic), 0)
        assert wiring.store.job("ljb_ours") is not None and wiring.store.job("ljb_ours").state == "open"  # type: ignore[union-attr]


async def test_result_keys_outside_the_source_never_reach_a_file(tmp_path: Path) -> None:
    """A result may only carry keys we sent; anything else (e.g. a path-like key) is dropped."""
    loaded = make_project(tmp_path / "repo", {"greeting": "Hello"})
    async with wired(loaded) as wiring:
        assert wiring.engine is not None
        wiring.engine.knobs.pause_deliveries = True
        await wiring.syncer.scan()
        await wiring.syncer.submit_pending()
        (job,) = wiring.store.jobs()
        wiring.store.job_received(job.job_id, "completed",
                                  {"greeting": "Hallo", "../../../etc/passwd": "x", "/abs": "y"}, None)
        assert await wiring.syncer.apply_received() == 1
        assert json.loads((loaded.root / "locales/de.json").read_text()) == {"greeting": "Hallo"}
        assert sorted(p.name for p in loaded.root.rglob("*") if p.is_file() and ".git" not in p.parts
                      and ".locsync" not in p.parts) == ["de.json", "en.json", "locsync.yaml"]


async def test_a_translation_that_breaks_placeholders_is_not_written(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", {"greeting": "Hello {name}", "items": "%d items in <b>cart</b>"})
    target = loaded.root / "locales/de.json"
    target.write_text(json.dumps({"theirs": "kept"}) + "\n")
    async with wired(loaded) as wiring:
        assert wiring.engine is not None
        wiring.engine.knobs.pause_deliveries = True
        (loaded.root / "locales/en.json").write_text(json.dumps({"greeting": "Hi {name}",
                                                                  "items": "%d items in <b>cart</b>"}) + "\n")
        await wiring.syncer.scan()
        await wiring.syncer.submit_pending()
        (job,) = wiring.store.jobs()
        wiring.store.job_received(job.job_id, "completed",
                                  {"greeting": "Hallo {nom}", "items": "%d Dinge im <b>Korb</b>"}, None)
        with structlog.testing.capture_logs() as logs:
            assert await wiring.syncer.apply_received() == 1
        de = json.loads(target.read_text())
        assert de == {"items": "%d Dinge im <b>Korb</b>", "theirs": "kept"}
        (warning,) = [e for e in logs if e["event"] == "placeholder_mismatch"]
        assert warning["key"] == "greeting" and "missing {name}" in warning["detail"]
