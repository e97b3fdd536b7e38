"""Runs the seeds' Python programs (examples/python/) as processes: on
grpcio (`python program.py`) or on gust (`python -m gust program.py`, the
documented way to run an unchanged grpcio program on gust).

The seeds listen on fixed ports (Fibonacci 1337, the others 50051), so one
server runs at a time, and a server is started only if its port is free.
Process handling (start, wait for the port, stop, logs) is the interop
tests' harness, tests/python/seedharness.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grpc

REPO = Path(__file__).resolve().parents[2]
PY_EXAMPLES = REPO / "examples" / "python"

sys.path.insert(0, str(REPO / "tests" / "python"))
import seedharness  # noqa: E402
from seedharness import STOP_DEADLINE_S, clean_env  # noqa: E402


def env(stubs: Path) -> dict[str, str]:
    return clean_env(PYTHONPATH=str(stubs))


def command(impl: str, program: str) -> list[str]:
    """How to run `program` on `impl` ("gust" or "grpcio")."""
    if impl == "gust":
        return [sys.executable, "-m", "gust", program]
    return [sys.executable, program]


class Server(seedharness.Server):
    """A seed server process; a context manager that stops it (SIGTERM)."""

    def __init__(self, impl: str, service: str, port: int, stubs: Path, log_dir: Path):
        super().__init__(f"{impl}-{service}-server", command(impl, "server.py"), port, log_dir,
                         cwd=PY_EXAMPLES / service, env=env(stubs))

    def signal(self, signum: int) -> int:
        """Sends `signum` once the program serves calls; returns the exit
        status (waits at most STOP_DEADLINE_S)."""
        self._wait_serving()
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=STOP_DEADLINE_S)

    def _wait_serving(self) -> None:
        """Waits until a call to a method no server has comes back
        UNIMPLEMENTED. Answering HTTP/2 is not enough here: grpcio's core
        answers while the program is still in grpcio's `start()`, which waits
        for the thread that serves calls, and a signal landing there is
        raised before the program's `try` (the helloworld seed then hangs in
        grpcio's threads). That thread is what answers the call."""
        with grpc.insecure_channel(f"localhost:{self.port}") as channel:
            probe = channel.unary_unary("/gust.tests.Readiness/Probe")
            try:
                probe(b"", timeout=STOP_DEADLINE_S, wait_for_ready=True)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                    raise


def run_client(impl: str, service: str, program: str, server: Server, stubs: Path, stdin: str = "") -> str:
    """Runs a seed client to completion; returns its stdout."""
    return seedharness.run_client(command(impl, program), server, stdin=stdin, cwd=PY_EXAMPLES / service,
                                  env=env(stubs))
