"""Run the console on uvicorn in a thread of the engine's process (`rexian serve --http`)."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from adapters.http.app import create_app

if TYPE_CHECKING:
    from adapters.bootstrap import Engine


class HttpServer:
    def __init__(self, engine: Engine, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            from domain.errors import InvalidInput

            raise InvalidInput("http", f"--http 应为 HOST:PORT：{address[:60]}",
                               f"--http must be HOST:PORT: {address[:60]!r}")
        self.app = create_app(engine)
        self.engine = engine
        # Bind here, so a port in use fails `serve` at start like gRPC's does.
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host.strip("[]"), int(port)))
        self.host, self.port = host, self.socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.socket]},
                                       name="rexian-http", daemon=True)

    def start(self) -> HttpServer:
        from adapters.kb import kb_desk

        kb_desk(self.engine).warm()  # agents' first assist search answers at once
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.socket.close()


def serve_http(engine: Engine, address: str) -> HttpServer:
    return HttpServer(engine, address).start()
