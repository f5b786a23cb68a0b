"""In-process fan-out of group events to WebSocket listeners.

Each listener gets its own unbounded queue: the worker must never wait on a slow socket,
and a group has at most 100 jobs plus one final event, so a queue cannot grow without
bound. ``None`` in a queue means the engine is stopping.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

Message = dict[str, Any]


class GroupEvents:
    """Subscribe to one group's messages; publish to every subscriber of a group."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[asyncio.Queue[Message | None]]] = defaultdict(set)

    def subscribe(self, group_id: str) -> asyncio.Queue[Message | None]:
        queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._subscribers[group_id].add(queue)
        return queue

    def unsubscribe(self, group_id: str, queue: asyncio.Queue[Message | None]) -> None:
        listeners = self._subscribers.get(group_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._subscribers[group_id]

    def publish(self, group_id: str, message: Message) -> None:
        for queue in self._subscribers.get(group_id, ()):
            queue.put_nowait(message)

    def close(self) -> None:
        """Tell every listener the engine is going away."""
        for listeners in self._subscribers.values():
            for queue in listeners:
                queue.put_nowait(None)
