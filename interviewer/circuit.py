"""A circuit breaker per LLM endpoint: one that timed out or refused is left alone for a while.

Without it, every answer waits the whole timeout again for an endpoint that is down, and the person sees only
"Grading..." each time. With it, the first failure opens the circuit for the configured cool-down; until then,
or until someone asks to try again, answers go straight to the offline grader with a notice that says so.

One breaker serves a whole process (the app keeps it as a cached resource shared by all sessions), keyed by
endpoint, so a second tab or a runtime for other settings learns of the outage too. It is thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


def _clock_time(moment: float) -> str:
    """A wall-clock time as a person reads it on this machine, e.g. 14:05."""
    return datetime.fromtimestamp(moment).strftime("%H:%M")


@dataclass(frozen=True)
class Outage:
    """An endpoint that did not answer, and until when it is left alone."""

    endpoint: str
    since: float
    until: float

    def describe(self) -> str:
        """The notice a person sees."""
        return (
            f"the LLM endpoint did not answer at {_clock_time(self.since)}; answers are graded offline until "
            f"{_clock_time(self.until)} or until you try again"
        )


class CircuitBreaker:
    """Endpoints that recently timed out or refused, each with the time it may be asked again."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._outages: dict[str, Outage] = {}

    def outage(self, endpoint: str) -> Outage | None:
        """The endpoint's current outage, or None when it may be asked."""
        with self._lock:
            outage = self._outages.get(endpoint)
            if outage is not None and outage.until <= self._clock():
                del self._outages[endpoint]
                return None
            return outage

    def trip(self, endpoint: str, cooldown: float) -> None:
        """The endpoint did not answer: leave it alone for `cooldown` seconds (0 never opens the circuit)."""
        if cooldown <= 0:
            return
        with self._lock:
            now = self._clock()
            self._outages[endpoint] = Outage(endpoint, now, now + cooldown)

    def reset(self, endpoint: str) -> None:
        """The endpoint answered, or a person asked to try it again."""
        with self._lock:
            self._outages.pop(endpoint, None)
