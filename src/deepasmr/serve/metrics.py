"""Prometheus text-format metrics (exposition format 0.0.4), kept in-process without extra dependencies.

Requests are counted by route template (not raw path, so ids don't blow up the label set), method and status;
latency is a histogram per route; queue depth, capacity and rejections come from the work queue at scrape time.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**kv) -> str:
    def esc(v) -> str:
        return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in kv.items()) + "}"


class Histogram:
    def __init__(self, buckets=LATENCY_BUCKETS):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.sum += value
        self.count += 1
        for i, b in enumerate(self.buckets):
            if value <= b:
                self.counts[i] += 1

    def lines(self, name: str, **labels) -> list[str]:
        out = [f"{name}_bucket{_labels(**labels, le=b)} {c}" for b, c in zip(self.buckets, self.counts, strict=True)]
        out.append(f"{name}_bucket{_labels(**labels, le='+Inf')} {self.count}")
        out.append(f"{name}_sum{_labels(**labels)} {self.sum:.6f}")
        out.append(f"{name}_count{_labels(**labels)} {self.count}")
        return out


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, Histogram] = {}
        self.synthesis = Histogram()
        self.audio_seconds = 0.0
        self.timeouts = 0
        self.started = time.time()

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, status)] += 1
            self.latency.setdefault(route, Histogram()).observe(seconds)

    def observe_synthesis(self, seconds: float, audio_seconds: float) -> None:
        with self._lock:
            self.synthesis.observe(seconds)
            self.audio_seconds += audio_seconds

    def observe_timeout(self) -> None:
        with self._lock:
            self.timeouts += 1

    def render(self, work=None, model_loaded: bool = False, voices: int = 0) -> str:
        with self._lock:
            lines = ["# HELP deepasmr_requests_total HTTP requests answered, by route template, method and status.",
                     "# TYPE deepasmr_requests_total counter"]
            for (route, method, status), n in sorted(self.requests.items()):
                lines.append(f"deepasmr_requests_total{_labels(route=route, method=method, status=status)} {n}")
            lines += ["# HELP deepasmr_request_duration_seconds Time from request start to response start.",
                      "# TYPE deepasmr_request_duration_seconds histogram"]
            for route, h in sorted(self.latency.items()):
                lines += h.lines("deepasmr_request_duration_seconds", route=route)
            lines += ["# HELP deepasmr_synthesis_seconds Time a worker spent on one speech job.",
                      "# TYPE deepasmr_synthesis_seconds histogram",
                      *self.synthesis.lines("deepasmr_synthesis_seconds"),
                      "# HELP deepasmr_audio_seconds_total Seconds of speech generated.",
                      "# TYPE deepasmr_audio_seconds_total counter",
                      f"deepasmr_audio_seconds_total {self.audio_seconds:.3f}",
                      "# HELP deepasmr_request_timeouts_total Requests answered 504 after the per-request timeout.",
                      "# TYPE deepasmr_request_timeouts_total counter",
                      f"deepasmr_request_timeouts_total {self.timeouts}"]
        if work is not None:
            lines += ["# HELP deepasmr_queue_depth Jobs queued or running now.", "# TYPE deepasmr_queue_depth gauge",
                      f"deepasmr_queue_depth {work.depth}",
                      "# HELP deepasmr_queue_running Jobs running now.", "# TYPE deepasmr_queue_running gauge",
                      f"deepasmr_queue_running {work.running}",
                      "# HELP deepasmr_queue_capacity Jobs the queue holds before answering 429.",
                      "# TYPE deepasmr_queue_capacity gauge", f"deepasmr_queue_capacity {work.capacity}",
                      "# HELP deepasmr_queue_rejected_total Jobs refused with 429 because the queue was full.",
                      "# TYPE deepasmr_queue_rejected_total counter", f"deepasmr_queue_rejected_total {work.rejected}",
                      "# HELP deepasmr_queue_completed_total Jobs a worker finished (ok or error).",
                      "# TYPE deepasmr_queue_completed_total counter",
                      f"deepasmr_queue_completed_total {work.completed}"]
        lines += ["# HELP deepasmr_model_loaded 1 when the model bundle is loaded.",
                  "# TYPE deepasmr_model_loaded gauge",
                  f"deepasmr_model_loaded {int(model_loaded)}",
                  "# HELP deepasmr_voices Registered voices on disk.", "# TYPE deepasmr_voices gauge",
                  f"deepasmr_voices {voices}",
                  "# HELP deepasmr_uptime_seconds Seconds since the server started.",
                  "# TYPE deepasmr_uptime_seconds gauge", f"deepasmr_uptime_seconds {time.time() - self.started:.1f}"]
        return "\n".join(lines) + "\n"
