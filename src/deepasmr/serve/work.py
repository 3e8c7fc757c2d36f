"""A bounded work queue in front of the one loaded model: `workers` threads take jobs in arrival order.

Admission is decided at once, never by making a caller wait for a slot:
- at most `capacity` jobs wait or run; one more is refused (QueueFull -> 429 with Retry-After);
- a job that would not finish within its caller's timeout is refused too: its expected finish, from the
  median of recent service times times `margin`, lies past the deadline. Accepting it would only turn a quick
  429 into a slow 504. (A worker's first job is left out of the estimate: it pays one-off lazy imports.)
Each job's deadline counts from when it was queued: a job whose caller gave up (timeout, disconnect) before a
worker reached it is skipped, never run.
"""

from __future__ import annotations

import asyncio
import math
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

RECENT = 9  # service times kept for the estimate


class QueueFull(Exception):
    def __init__(self, retry_after: int, depth: int, reason: str = ""):
        reason = reason or f"{depth} jobs are queued or running (its limit)"
        super().__init__(f"the server is busy: {reason}; retry in {retry_after} s")
        self.retry_after, self.depth = retry_after, depth


class JobTimeout(Exception):
    pass


class WorkQueue:
    def __init__(self, capacity: int, workers: int = 1, init: Callable[[], None] | None = None,
                 retry_after_min: int = 1, retry_after_max: int = 600, margin: float = 1.5):
        self.capacity, self.workers = capacity, workers
        self.retry_after_min, self.retry_after_max, self.margin = retry_after_min, retry_after_max, margin
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0  # queued + running
        self._running = 0
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._cold: float | None = None  # the first job's time, used only until a warm one is known
        self._warmed: set[str] = set()
        self.completed = self.rejected = self.skipped = 0
        self._init = init
        self._threads = [threading.Thread(target=self._loop, name=f"deepasmr-worker-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    # -- state ----------------------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self._pending

    @property
    def running(self) -> int:
        return self._running

    def service_estimate(self) -> float | None:
        """Seconds one job takes: the median of recent warm jobs (else the cold first one; None before any)."""
        if self._recent:
            return statistics.median(self._recent)
        return self._cold

    def _clamp(self, seconds: float) -> int:
        return int(min(self.retry_after_max, max(self.retry_after_min, math.ceil(seconds))))

    def retry_after(self) -> int:
        """Seconds until a worker is likely free again."""
        return self._clamp((self.service_estimate() or 1.0) / self.workers)

    def _expected_finish(self, est: float) -> float:
        """Seconds from now until a job queued now would be done (jobs ahead shared by the workers, plus its own)."""
        return (self._pending // self.workers + 1) * est * self.margin

    # -- submitting -----------------------------------------------------------------------------------------
    def submit(self, fn: Callable[[], Any], timeout: float | None = None) -> Future:
        fut: Future = Future()
        with self._lock:
            if self._pending >= self.capacity:
                self.rejected += 1
                raise QueueFull(self.retry_after(), self._pending)
            est = self.service_estimate()
            if timeout is not None and est is not None and self._pending:
                finish = self._expected_finish(est)
                if finish > timeout:
                    self.rejected += 1
                    wait = self._clamp(finish - timeout)
                    raise QueueFull(wait, self._pending, f"{self._pending} jobs ahead would not let this one finish "
                                                         f"within the {timeout:g} s request timeout")
            self._pending += 1
        self._jobs.put((fn, fut))
        return fut

    async def run(self, fn: Callable[[], Any], timeout: float) -> Any:
        """Queue `fn`, wait at most `timeout` seconds for its result; JobTimeout past that."""
        fut = self.submit(fn, timeout)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)
        except asyncio.TimeoutError:
            fut.cancel()  # a job still queued is skipped; a running one finishes and is discarded
            raise JobTimeout(f"the request did not finish within {timeout:g} s (queue wait included)") from None

    # -- the workers ----------------------------------------------------------------------------------------
    def _record(self, took: float) -> None:
        name = threading.current_thread().name
        if name not in self._warmed:
            self._warmed.add(name)
            if self._cold is None:
                self._cold = took
            return
        self._recent.append(took)

    def _loop(self) -> None:
        if self._init is not None:
            self._init()
        while True:
            item = self._jobs.get()
            if item is None:
                return
            fn, fut = item
            try:
                if not fut.set_running_or_notify_cancel():
                    self.skipped += 1
                    continue
                with self._lock:
                    self._running += 1
                start = time.perf_counter()
                try:
                    fut.set_result(fn())
                except BaseException as err:  # the caller sees it; the worker goes on
                    fut.set_exception(err)
                finally:
                    took = time.perf_counter() - start
                    with self._lock:
                        self._running -= 1
                        self.completed += 1
                        self._record(took)
            finally:
                with self._lock:
                    self._pending -= 1

    def close(self, timeout: float = 2.0) -> None:
        """Stop the workers after the jobs already queued (new submissions are not expected by then)."""
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join(timeout)
