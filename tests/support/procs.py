"""Real subprocesses for fault tests: start `python -m ...`, wait for a line, kill -9."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from types import TracebackType


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (callers retry on a lost race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PythonProcess:
    """`python -m MODULE ARGS...` in its own process group, stdout+stderr read line by line.

    A reader thread feeds a queue so `wait_for_line` can time out even when the child
    prints nothing (a blocking readline could hang the test forever).
    """

    def __init__(
        self,
        module: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        inherit_env: bool = True,
    ) -> None:
        full_env = dict(os.environ) if inherit_env else {}
        full_env.update(env or {})
        # Without this the child's prints sit in a block buffer and never reach us.
        full_env["PYTHONUNBUFFERED"] = "1"
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env=full_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            # Own group: kill() takes down any children too, like a crashed container.
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)  # EOF marker

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for_line(self, pattern: str, timeout: float = 10.0) -> str:
        """Return the first new output line matching regex `pattern`; raise on timeout/exit."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no line matching {pattern!r} within {timeout}s; output:\n{self.output()}"
                )
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._queue.put(None)  # keep EOF visible to later calls
                raise RuntimeError(
                    f"process exited ({self.proc.wait()}) before {pattern!r}; "
                    f"output:\n{self.output()}"
                )
            self.lines.append(line)
            if regex.search(line):
                return line

    def output(self) -> str:
        """Lines consumed so far plus whatever is queued (for failure messages)."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)
                break
            self.lines.append(line)
        return "\n".join(self.lines)

    def kill(self) -> int:
        """SIGKILL the whole process group (no cleanup runs: a real crash). Returns exit code."""
        # Even if the leader already exited, its children may still hold the group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        code = self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        return code

    def __enter__(self) -> PythonProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
