"""The bounded work queue (plain callables), and the per-request timeout on a real server."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from serve_helpers import start_server

from deepasmr.serve.work import JobTimeout, QueueFull, WorkQueue


def test_full_queue_refuses_at_once_with_a_retry_hint():
    gate = threading.Event()
    work = WorkQueue(capacity=2, workers=1)
    try:
        first = work.submit(lambda: gate.wait(10) and "first")
        second = work.submit(lambda: "second")
        assert work.depth == 2
        with pytest.raises(QueueFull) as err:
            work.submit(lambda: "third")
        assert err.value.retry_after >= 1 and err.value.depth == 2 and work.rejected == 1
        gate.set()
        assert first.result(10) == "first" and second.result(10) == "second"
        work.submit(lambda: None).result(10)
        assert work.depth == 0 and work.completed == 3
    finally:
        gate.set()
        work.close()


def test_a_job_that_timed_out_while_queued_never_runs():
    gate, ran = threading.Event(), []
    work = WorkQueue(capacity=3, workers=1)

    async def scenario():
        blocker = asyncio.ensure_future(work.run(lambda: gate.wait(10), timeout=10))
        await asyncio.sleep(0.05)
        with pytest.raises(JobTimeout, match="0.1 s"):
            await work.run(lambda: ran.append(1), timeout=0.1)
        gate.set()
        await blocker
        await work.run(lambda: None, timeout=10)  # the worker moved past the skipped job

    try:
        asyncio.run(scenario())
        assert ran == [] and work.skipped == 1
    finally:
        gate.set()
        work.close()


def test_a_job_that_could_not_meet_its_deadline_is_refused_at_once():
    gate = threading.Event()
    work = WorkQueue(capacity=10, workers=1, margin=1.0)
    try:
        work.submit(lambda: None).result(10)  # the cold first job does not count
        for _ in range(2):
            work.submit(lambda: time.sleep(0.2)).result(10)
        assert work.service_estimate() == pytest.approx(0.2, abs=0.1)
        work.submit(lambda: gate.wait(10))  # an empty queue always takes a job
        with pytest.raises(QueueFull, match="within the 0.3 s request timeout") as err:
            work.submit(lambda: None, timeout=0.3)  # one job ahead + its own = ~0.4 s > 0.3 s
        assert err.value.retry_after >= 1
        accepted = work.submit(lambda: "ok", timeout=5.0)
        gate.set()
        assert accepted.result(10) == "ok"
    finally:
        gate.set()
        work.close()


def test_job_errors_reach_the_caller_and_the_worker_survives():
    work = WorkQueue(capacity=2, workers=1)
    try:
        with pytest.raises(ZeroDivisionError):
            work.submit(lambda: 1 / 0).result(10)
        assert work.submit(lambda: 42).result(10) == 42
    finally:
        work.close()


def test_per_request_timeout_answers_504_and_the_server_goes_on(serve_config, serve_engine, tmp_path):
    server = start_server(serve_config.with_(data_dir=tmp_path, request_timeout_s=0.05), serve_engine)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            r = api.post("/v1/audio/speech", json={"model": "m", "input": "Hush.",
                                                   "voice": "default", "response_format": "wav"})
            assert r.status_code == 504, r.text
            assert "did not finish within 0.05 s" in r.json()["error"]["message"]
            assert api.get("/health").json()["status"] == "ok"
            assert "deepasmr_request_timeouts_total 1" in api.get("/metrics").text
    finally:
        server.stop()
