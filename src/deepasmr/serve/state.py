"""What one running server holds: the config, the model (loaded once), the voice store, the catalog of voice
names, the work queue and the metrics. Routes reach it as `request.app.state.server`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from deepasmr.errors import DeepASMRError
from deepasmr.serve.catalog import Catalog
from deepasmr.serve.config import ServeConfig
from deepasmr.serve.errors import ApiError, from_pipeline
from deepasmr.serve.metrics import Metrics
from deepasmr.serve.voices import VoiceStore
from deepasmr.serve.work import JobTimeout, QueueFull, WorkQueue

log = logging.getLogger("deepasmr.serve")


def set_torch_threads(n: int) -> None:
    if n > 0:
        import torch

        torch.set_num_threads(n)


class ServerState:
    def __init__(self, config: ServeConfig, engine=None):
        self.config = config
        self.engine = engine
        self.model_error: str | None = None
        self.metrics = Metrics()
        self.store = VoiceStore(config.voices_dir, config.max_voices)
        self.catalog = Catalog(self.store, None, config.default_voice)
        self.work: WorkQueue | None = None
        self.started = time.time()

    def start(self) -> None:
        """Load the model (unless given) and start the workers. A model that cannot be loaded leaves the server
        up and answering: /health says why, speech requests get 503 with the same reason."""
        set_torch_threads(self.config.torch_threads)
        if self.engine is None:
            try:
                from deepasmr.pipeline import DeepASMR
                from deepasmr.pipeline.bundle import check_bundle, default_model_dir

                check_bundle(self.config.model or default_model_dir())  # names missing files before heavy imports
                self.engine = DeepASMR.load(self.config.model)
            except DeepASMRError as err:
                self.model_error = str(err)
                log.error("deepasmr serve: model not loaded: %s", err)
        bundle = self.engine.bundle if self.engine is not None else None
        self.catalog = Catalog(self.store, bundle, self.config.default_voice)
        self.work = WorkQueue(self.config.max_queue, self.config.workers,
                              init=lambda: set_torch_threads(self.config.torch_threads),
                              retry_after_min=self.config.retry_after_min_s,
                              retry_after_max=max(self.config.retry_after_min_s, int(self.config.request_timeout_s)),
                              margin=self.config.admission_margin)

    def stop(self) -> None:
        if self.work is not None:
            self.work.close()

    def require_engine(self):
        if self.engine is None:
            raise ApiError(503, f"the model is not loaded: {self.model_error or 'the server is starting'}",
                           code="model_unavailable")
        return self.engine

    async def run_job(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on a worker under the queue bound and the per-request timeout; errors become ApiErrors."""
        if self.work is None:
            raise ApiError(503, "the server is starting", code="starting")
        try:
            return await self.work.run(fn, self.config.request_timeout_s)
        except QueueFull as err:
            raise ApiError(429, str(err), code="queue_full", headers={"Retry-After": str(err.retry_after)}) from None
        except JobTimeout as err:
            self.metrics.observe_timeout()
            raise ApiError(504, str(err), code="timeout") from None
        except DeepASMRError as err:
            raise from_pipeline(err) from None
