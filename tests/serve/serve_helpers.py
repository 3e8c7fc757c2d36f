"""A real uvicorn server on loopback, in a thread of the test process (shared by the serving tests)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

# Small limits keep the bad-input matrix cheap; max_queue 4 makes the load test overflow on purpose.
TEST_LIMITS = dict(max_queue=4, workers=1, request_timeout_s=300.0, max_upload_bytes=2 * 1024 * 1024,
                   max_clip_seconds=12.0, max_text_chars=300, max_steps=8, max_iterations=2, max_voices=20)


@dataclass
class LiveServer:
    url: str
    app: object
    server: object
    thread: threading.Thread

    @property
    def state(self):
        return self.app.state.server

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def start_server(config, engine=None) -> LiveServer:
    """Run create_app(config, engine) on uvicorn, bound to a free loopback port; returns once it accepts."""
    import uvicorn

    from deepasmr.serve.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(config.with_(port=port), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn-test")
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", app, server, thread)
