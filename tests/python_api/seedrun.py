"""Runs the seeds' Python programs (examples/python/) as processes: on
grpcio (`python program.py`) or on gust (`python -m gust program.py`, the
documented way to run an unchanged grpcio program on gust).

The seeds listen on fixed ports (Fibonacci 1337, the others 50051), so one
server runs at a time, and a server is started only if its port is free.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PY_EXAMPLES = REPO / "examples" / "python"

START_DEADLINE_S = 30.0
CLIENT_TIMEOUT_S = 60.0
STOP_DEADLINE_S = 10.0

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "grpc_proxy", "no_grpc_proxy",
               "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def env(stubs: Path) -> dict[str, str]:
    result = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    result["PYTHONUNBUFFERED"] = "1"
    result["PYTHONPATH"] = str(stubs)
    return result


def command(impl: str, program: str) -> list[str]:
    """How to run `program` on `impl` ("gust" or "grpcio")."""
    if impl == "gust":
        return [sys.executable, "-m", "gust", program]
    return [sys.executable, program]


def port_in_use(port: int) -> bool:
    for host in ("127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            pass
    return False


def _default_sigint():
    # A shell may start us with SIGINT ignored, which children would inherit;
    # the servers must see Ctrl-C as an interactive user's would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server:
    """A seed server process; a context manager that stops it (SIGTERM)."""

    def __init__(self, impl: str, service: str, port: int, stubs: Path, log_dir: Path):
        self.cmd = command(impl, "server.py")
        self.cwd = PY_EXAMPLES / service
        self.port = port
        self.env = env(stubs)
        self.out_path = log_dir / f"{impl}-{service}-server.stdout"
        self.err_path = log_dir / f"{impl}-{service}-server.stderr"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is in use before starting {self.cmd}: "
                               "a server from an earlier run is probably still alive")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, start_new_session=True,
                                         preexec_fn=_default_sigint)
        try:
            deadline = time.monotonic() + START_DEADLINE_S
            while not port_in_use(self.port):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.cmd} exited with {self.proc.returncode}\n{self.logs()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.cmd} did not listen on {self.port}\n{self.logs()}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> int:
        """Sends `signum`; returns the exit status (waits at most STOP_DEADLINE_S)."""
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=STOP_DEADLINE_S)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=STOP_DEADLINE_S)

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def logs(self) -> str:
        return (f"--- server stdout ---\n{self.stdout()}"
                f"--- server stderr ---\n{self.err_path.read_text(errors='replace')}")


def run_client(impl: str, service: str, program: str, server: Server, stubs: Path, stdin: str = "") -> str:
    """Runs a seed client to completion; returns its stdout."""
    cmd = command(impl, program)
    try:
        done = subprocess.run(cmd, cwd=PY_EXAMPLES / service, env=env(stubs), input=stdin.encode(),
                              capture_output=True, timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        server.stop()
        raise AssertionError(f"{cmd} timed out\n{(e.stderr or b'').decode(errors='replace')}"
                             f"{server.logs()}") from None
    out = done.stdout.decode(errors="replace")
    if done.returncode != 0 or not server.alive():
        server.stop()
        raise AssertionError(
            f"{cmd} exited with {done.returncode} (server alive: {server.alive()})\n"
            f"--- client stdout ---\n{out}--- client stderr ---\n{done.stderr.decode(errors='replace')}"
            f"{server.logs()}")
    return out
