"""The HTTP and WebSocket surface of the engine (Starlette routes).

Shapes follow api-contracts §1.4–1.10: errors are ``{"message": ...}`` with the documented
status codes, ids are ``ljg_``/``ljb_``, timestamps ISO-8601. The app has no lifespan and
uses no absolute URLs, so it works the same standalone or mounted under a prefix inside
another Starlette app; ``Engine.start()``/``stop()`` run the background work instead.

Test controls live under ``/_engine/`` and need the API key like everything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from daemon.engine.auth import HEADER, api_key_ok
from daemon.engine.rollup import group_status, is_done, rest_counts, ws_snapshot
from daemon.engine.store import EngineStore, JobRow
from daemon.engine.validation import (
    RequestError,
    encode_cursor,
    parse_create,
    parse_json_body,
    parse_list_query,
)

if TYPE_CHECKING:
    from daemon.engine.app import Engine

log = structlog.get_logger("locsync.engine")

_UNAUTHORIZED = "missing or invalid X-API-Key"

Handler = Callable[[Request, EngineStore], Awaitable[Response]]


def shown(engine: Engine, status: str) -> str:
    """The status as reported: the ``unknown_status`` knob replaces the in-progress ones."""
    if engine.knobs.unknown_status and status in ("queued", "processing"):
        return engine.knobs.unknown_status
    return status


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def build_app(engine: Engine) -> Starlette:
    """The ASGI app of ``engine``; requests before ``start()`` or after ``stop()`` get 503."""

    # reads of results since this app was built: in memory, since a durable counter would cost
    # a write per GET; a client that relies on webhooks should leave them at (almost) zero
    reads = {"group_reads": 0, "job_reads": 0, "list_reads": 0}

    def store_or_none() -> EngineStore | None:
        return engine.store if engine.running else None

    def guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler with the API-key check, the running check and 400 mapping."""

        async def endpoint(request: Request) -> Response:
            if not api_key_ok(engine.settings, request.headers.get(HEADER)):
                return error(401, _UNAUTHORIZED)
            store = store_or_none()
            if store is None:
                return error(503, "engine is not running")
            try:
                return await handler(request, store)
            except RequestError as exc:
                return error(400, str(exc))

        return endpoint

    async def create_group(request: Request, store: EngineStore) -> Response:
        parsed = parse_create(
            parse_json_body(await request.body()), allow_http_callbacks=engine.settings.allow_http_callbacks
        )
        outcome = store.create_group(
            idempotency_key=parsed.idempotency_key,
            request=parsed.raw,
            source_locale=parsed.source_locale,
            target_locales=parsed.target_locales,
            engine_id=parsed.engine_id or engine.settings.engine_id,
            callback_url=parsed.callback_url,
        )
        group, jobs = outcome.group, outcome.jobs
        if outcome.replayed:
            log.info("idempotent_replay", group_id=group.id, conflict=outcome.conflict)
        else:
            log.info("group_created", group_id=group.id, jobs=len(jobs), callback=group.callback_url is not None)
            engine.wake_worker()
        return JSONResponse(
            {
                "groupId": group.id,
                "status": group_status(jobs),
                "jobs": [{"id": j.id, "targetLocale": j.target_locale, "status": shown(engine, j.status)} for j in jobs],
                "createdAt": group.created_at,
            },
            status_code=202,
        )

    async def get_group(request: Request, store: EngineStore) -> Response:
        reads["group_reads"] += 1
        group = store.get_group(request.path_params["group_id"])
        if group is None:
            return error(404, "job group not found")
        jobs = store.group_jobs(group.id)
        return JSONResponse(
            {
                "id": group.id,
                "groupId": group.id,
                "status": group_status(jobs),
                "sourceLocale": group.source_locale,
                "createdAt": group.created_at,
                **rest_counts(jobs),
                "jobs": [
                    {"id": j.id, "targetLocale": j.target_locale, "status": shown(engine, j.status),
                     "errorMessage": j.error_message}
                    for j in jobs
                ],
            }
        )

    async def get_job(request: Request, store: EngineStore) -> Response:
        reads["job_reads"] += 1
        job = store.get_job(request.path_params["job_id"])
        group = store.get_group(job.group_id) if job is not None else None
        if job is None or group is None:
            return error(404, "job not found")
        return JSONResponse(
            {
                "id": job.id,
                "groupId": job.group_id,
                "sourceLocale": group.source_locale,
                "targetLocale": job.target_locale,
                "status": shown(engine, job.status),
                "outputData": job.output,
                "warnings": job.warnings,
                "steps": job.steps,
                "errorMessage": job.error_message,
                "createdAt": job.created_at,
                "completedAt": job.completed_at,
                "engineId": job.engine_id,
            }
        )

    async def list_jobs(request: Request, store: EngineStore) -> Response:
        reads["list_reads"] += 1
        query = parse_list_query(dict(request.query_params))
        rows = store.list_jobs(
            limit=query.limit + 1, engine_id=query.engine_id, status=query.status, before=query.before
        )
        page, more = rows[: query.limit], len(rows) > query.limit
        return JSONResponse(
            {
                "items": [_summary(job, engine) for job in page],
                "nextCursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None,
            }
        )

    async def get_stats(request: Request, store: EngineStore) -> Response:
        return JSONResponse({**store.stats(), **reads})

    async def get_knobs(request: Request, store: EngineStore) -> Response:
        return JSONResponse(engine.knobs.to_json())

    async def post_knobs(request: Request, store: EngineStore) -> Response:
        changes = parse_json_body(await request.body())
        if not isinstance(changes, dict):
            raise RequestError("knobs must be a JSON object")
        try:
            engine.update_knobs(changes)
        except ValueError as exc:
            raise RequestError(str(exc)) from exc
        return JSONResponse(engine.knobs.to_json())

    async def group_socket(websocket: WebSocket) -> None:
        if not api_key_ok(engine.settings, websocket.headers.get(HEADER)):
            await _deny(websocket, 401, _UNAUTHORIZED)
            return
        store = store_or_none()
        if store is None:
            await _deny(websocket, 503, "engine is not running")
            return
        group_id = websocket.path_params["group_id"]
        if store.get_group(group_id) is None:
            await _deny(websocket, 404, "job group not found")
            return
        await websocket.accept()
        # Subscribe and snapshot with no await in between: every later event is queued,
        # every earlier one is already in the snapshot.
        queue = engine.events.subscribe(group_id)
        try:
            jobs = store.group_jobs(group_id)
            await websocket.send_json({"type": "snapshot", "snapshot": ws_snapshot(group_id, jobs)})
            if is_done(jobs):
                await websocket.send_json(
                    {
                        "type": "group.completed",
                        "groupId": group_id,
                        "status": group_status(jobs),
                        "snapshot": ws_snapshot(group_id, jobs),
                    }
                )
                await websocket.close(1000)
                return
            await _pump(websocket, queue)
        except WebSocketDisconnect:
            pass
        finally:
            engine.events.unsubscribe(group_id, queue)

    async def not_found_or_method(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    routes = [
        Route("/jobs/localization", guarded(create_group), methods=["POST"]),
        Route("/jobs/localization", guarded(list_jobs), methods=["GET"]),
        Route("/jobs/localization/groups/{group_id}", guarded(get_group), methods=["GET"]),
        WebSocketRoute("/jobs/localization/groups/{group_id}/ws", group_socket),
        Route("/jobs/localization/{job_id}", guarded(get_job), methods=["GET"]),
        Route("/_engine/stats", guarded(get_stats), methods=["GET"]),
        Route("/_engine/knobs", guarded(get_knobs), methods=["GET"]),
        Route("/_engine/knobs", guarded(post_knobs), methods=["POST"]),
    ]

    async def internal_error(request: Request, exc: Exception) -> Response:
        # Keep the documented error shape even for bugs; uvicorn still logs the traceback.
        return error(500, "internal engine error")

    return Starlette(routes=routes, exception_handlers={HTTPException: not_found_or_method, Exception: internal_error})


def _summary(job: JobRow, engine: Engine) -> dict[str, Any]:
    return {
        "id": job.id,
        "groupId": job.group_id,
        "targetLocale": job.target_locale,
        "status": shown(engine, job.status),
        "warnings": job.warnings,
        "createdAt": job.created_at,
        "completedAt": job.completed_at,
    }


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    """Refuse an upgrade with a real HTTP status when the server supports it, else close 1008."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error(status, message))
    else:
        await websocket.close(code=1008, reason=message)


async def _pump(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Forward group events until ``group.completed`` (then close), a disconnect or engine stop."""

    async def forward() -> None:
        while True:
            message = await queue.get()
            if message is None:
                await websocket.close(1001, "engine stopping")
                return
            await websocket.send_json(message)
            if message["type"] == "group.completed":
                await websocket.close(1000)
                return

    async def watch_disconnect() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    sender = asyncio.create_task(forward())
    watcher = asyncio.create_task(watch_disconnect())
    try:
        await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, watcher):
            task.cancel()
        # A peer that vanished mid-send surfaces here as an exception; nothing is left to tell it.
        await asyncio.gather(sender, watcher, return_exceptions=True)
