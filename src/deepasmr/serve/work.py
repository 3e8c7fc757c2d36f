"""A bounded work queue in front of the one loaded model: `workers` threads take jobs in arrival order.

At most `capacity` jobs wait or run at once; one more is refused at once (QueueFull -> 429 with Retry-After
from the measured service time). Each job has a deadline counted from when it was queued: a job whose caller
gave up (timeout, disconnect) before a worker reached it is skipped, never run.
"""

from __future__ import annotations

import asyncio
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class QueueFull(Exception):
    def __init__(self, retry_after: int, depth: int):
        super().__init__(f"the server is busy: {depth} jobs are queued or running (its limit); retry in "
                         f"{retry_after} s")
        self.retry_after, self.depth = retry_after, depth


class JobTimeout(Exception):
    pass


class WorkQueue:
    def __init__(self, capacity: int, workers: int = 1, init: Callable[[], None] | None = None,
                 retry_after_min: int = 1):
        self.capacity, self.workers, self.retry_after_min = capacity, workers, retry_after_min
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0  # queued + running
        self._running = 0
        self._service_ewma: float | None = None  # seconds per job, recent-weighted
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

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: one service time per job ahead, shared by the workers."""
        per_job = self._service_ewma or 1.0
        return max(self.retry_after_min, math.ceil(per_job * max(1, self._pending) / self.workers))

    # -- submitting -----------------------------------------------------------------------------------------
    def submit(self, fn: Callable[[], Any]) -> Future:
        fut: Future = Future()
        with self._lock:
            if self._pending >= self.capacity:
                self.rejected += 1
                raise QueueFull(self.retry_after(), self._pending)
            self._pending += 1
        self._jobs.put((fn, fut))
        return fut

    async def run(self, fn: Callable[[], Any], timeout: float) -> Any:
        """Queue `fn`, wait at most `timeout` seconds for its result; JobTimeout past that."""
        fut = self.submit(fn)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)
        except asyncio.TimeoutError:
            fut.cancel()  # a job still queued is skipped; a running one finishes and is discarded
            raise JobTimeout(f"the request did not finish within {timeout:g} s (queue wait included)") from None

    # -- the workers ----------------------------------------------------------------------------------------
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
                        ew = self._service_ewma
                        self._service_ewma = took if ew is None else 0.7 * ew + 0.3 * took
            finally:
                with self._lock:
                    self._pending -= 1

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers after the jobs already queued (new submissions are not expected by then)."""
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join(timeout)
