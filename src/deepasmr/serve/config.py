"""Everything a running server is allowed to do, in one frozen dataclass: where it listens, what it loads,
and every limit it enforces (no magic numbers in the routes)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, replace
from pathlib import Path

from deepasmr.errors import DeepASMRError

API_KEY_ENV = "DEEPASMR_API_KEY"
DATA_DIR_ENV = "DEEPASMR_SERVE_DIR"


def default_data_dir() -> Path:
    """$DEEPASMR_SERVE_DIR, else $XDG_DATA_HOME/deepasmr/serve (~/.local/share/deepasmr/serve)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "deepasmr" / "serve"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    # Model bundle folder; None = $DEEPASMR_MODEL or the embedded models/tiny (deepasmr.pipeline).
    model: Path | None = None
    # Registered voices live under <data_dir>/voices, cached pictures under <data_dir>/plots.
    data_dir: Path | None = None
    # Clip behind voice="default"; None = <model>/voices/default.wav, else the first English normal-style
    # pool clip of the bundle; neither -> requests for "default" answer a clear 400.
    default_voice: Path | None = None
    # Required on every API route when set (Authorization: Bearer KEY or X-API-Key: KEY).
    api_key: str | None = None
    # -- limits ---------------------------------------------------------------------------------------------
    max_upload_bytes: int = 10 * 1024 * 1024  # one multipart upload (voice clip or clip to analyse)
    max_clip_seconds: float = 30.0  # a voice clip, after trimming its silent ends
    max_analyze_seconds: float = 300.0  # a clip sent to POST /v1/analyze (e.g. a long speech answer)
    max_text_chars: int = 2_000  # `input` of a speech request
    max_transcript_chars: int = 500  # a voice's transcript
    max_steps: int = 64  # flow ODE steps a request may ask for
    max_iterations: int = 3  # refinement passes a request may ask for
    max_candidates: int = 16  # LM token samples per sentence a request may ask for (LM time grows with them)
    max_voices: int = 1_000  # registered voices kept on disk
    min_speed: float = 0.25  # OpenAI's range
    max_speed: float = 4.0
    # -- work -----------------------------------------------------------------------------------------------
    workers: int = 1  # synthesis threads sharing the one loaded model
    max_queue: int = 8  # jobs waiting or running; one more is answered 429 with Retry-After
    request_timeout_s: float = 120.0  # from the moment a job is queued; past it the answer is 504
    # A job is refused (429) when (jobs ahead / workers + 1) x median recent service time x this margin would
    # end past its timeout: a quick 429 instead of a slow 504.
    admission_margin: float = 1.5
    torch_threads: int = 1  # torch intra-op threads of the server process (0 = leave torch's choice)
    retry_after_min_s: int = 1

    def __post_init__(self):
        problems = []
        if not (0 <= self.port <= 65535):
            problems.append(f"port {self.port} is not in 0..65535")
        for name in ("max_upload_bytes", "max_text_chars", "max_transcript_chars", "max_steps", "max_iterations",
                     "max_candidates", "max_voices", "workers", "max_queue", "retry_after_min_s"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be at least 1, not {getattr(self, name)}")
        if min(self.max_clip_seconds, self.max_analyze_seconds, self.request_timeout_s) <= 0:
            problems.append("max_clip_seconds, max_analyze_seconds and request_timeout_s must be positive")
        if self.max_queue < self.workers:
            problems.append(f"max_queue ({self.max_queue}) must be at least workers ({self.workers})")
        if not (0 < self.min_speed <= 1.0 <= self.max_speed):
            problems.append(f"speed range {self.min_speed}..{self.max_speed} must contain 1.0")
        if self.admission_margin < 1.0:
            problems.append(f"admission_margin must be at least 1.0, not {self.admission_margin}")
        if self.torch_threads < 0:
            problems.append("torch_threads must be 0 (torch's choice) or more")
        if self.api_key is not None and not self.api_key.strip():
            problems.append("the API key is empty")
        if problems:
            raise DeepASMRError("bad server configuration: " + "; ".join(problems))

    @property
    def voices_dir(self) -> Path:
        return Path(self.data_dir or default_data_dir()) / "voices"

    @property
    def plots_dir(self) -> Path:
        return Path(self.data_dir or default_data_dir()) / "plots"

    def with_(self, **changes) -> ServeConfig:
        return replace(self, **changes)

    def check_exposure(self, allow_no_key: bool = False) -> None:
        """Binding beyond loopback without an API key opens the model to the network: refuse unless asked."""
        if not is_loopback(self.host) and self.api_key is None and not allow_no_key:
            raise DeepASMRError(f"refusing to listen on {self.host} without an API key: pass --api-key KEY (or set "
                                f"${API_KEY_ENV}), or --allow-no-key to serve the network unauthenticated")
