"""The relay's encoding helper process: reads the notification log and encodes batches.

`python -m adapters.kafka.encoder --db URL` speaks pickle over its stdin/stdout with
exactly one parent (adapters.kafka.relay.ProcessEncoding):

    parent → helper:  (start, limit)
    helper → parent:  ("ready", pid) once, then per request ("batch", EncodedBatch | None)
                      or ("error", text)

After answering a request it reads and encodes the following batch at once, so the
relay (which asks for it as soon as it has the previous one) rarely waits.

It exits when its stdin closes, which is also what happens when the parent is killed
(kill -9 included): no orphan keeps the store open. Anything the helper prints goes to
stderr, so stray output can never corrupt the protocol.
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import IO, Any


def serve(requests: IO[bytes], replies: IO[bytes], db_url: str) -> int:
    from adapters.bootstrap import build_engine
    from adapters.kafka.relay import RecordEncoder, read_and_encode

    engine = build_engine(db_url, deadlines=None)
    encoder = RecordEncoder(engine.service)
    # The batch after the one just sent, encoded while the relay sends that one.
    ahead: tuple[tuple[int, int], Any] | None = None

    def reply(message: Any) -> None:
        pickle.dump(message, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()

    try:
        reply(("ready", os.getpid()))
        while True:
            try:
                request = tuple(pickle.load(requests))
            except EOFError:
                return 0  # the relay is gone (or closed us): stop
            start, limit = request
            try:
                if ahead is not None and ahead[0] == request and ahead[1] is not None:
                    batch = ahead[1]  # a batch read earlier stays valid: the log only grows
                else:
                    batch = read_and_encode(engine.service, encoder, start, limit)
                ahead = None
                reply(("batch", batch))
                if batch is not None:
                    ahead = ((batch.last, limit),
                             read_and_encode(engine.service, encoder, batch.last, limit))
            except BrokenPipeError:
                raise
            except Exception:
                ahead = None
                reply(("error", traceback.format_exc()))
    except BrokenPipeError:
        return 0
    finally:
        engine.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.kafka.encoder")
    parser.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    # The relay decides when we stop (it closes our stdin): a Ctrl-C or a SIGTERM sent to
    # the whole process group must not kill us while the relay still drains its backlog.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Keep the protocol channel for ourselves; print() and logging go to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return serve(sys.stdin.buffer, replies, args.db)


if __name__ == "__main__":
    sys.exit(main())
