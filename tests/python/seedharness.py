"""Process harness for the seed interoperability tests.

Starts a server program, waits until its port accepts connections, runs a
client program to completion, and always stops the server again. The seeds use
fixed ports, so a server is only started when nothing else listens on its port:
grpcio binds with SO_REUSEPORT, and a stale server left behind by an earlier run
would otherwise silently answer in place of the one under test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

#: How long a server may take to start listening.
START_DEADLINE_S = 30.0
#: How long a client may take to finish (the seed's bidi client sleeps 1 s per input).
CLIENT_TIMEOUT_S = 60.0
#: How long a server may take to exit after SIGTERM before it gets SIGKILL.
STOP_DEADLINE_S = 10.0

#: Proxy settings would route the peers' connections to localhost elsewhere.
_PROXY_VARS = (
    "http_proxy", "https_proxy", "all_proxy", "grpc_proxy", "no_grpc_proxy",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a peer process: ours, without proxies, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("RUST_BACKTRACE", "1")
    env.update(extra)
    return env


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _default_sigint() -> None:
    # A shell may start us with SIGINT ignored, which children inherit; a
    # server under test must see Ctrl-C as an interactive user's would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def port_in_use(port: int) -> bool:
    """True when something on this machine accepts connections on `port`."""
    return _accepts("127.0.0.1", port) or _accepts("::1", port)


#: The HTTP/2 client preface, then an empty SETTINGS frame.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def serves_http2(port: int) -> bool:
    """True once a server on `port` answers HTTP/2 (sends its SETTINGS).

    A port accepting TCP connections is not enough: grpcio and gust bind in
    `add_insecure_port`, before `start()`, so a signal sent as soon as the
    port accepts can land while the program is still in `start()`, before
    the `try` that handles it."""
    for host in ("127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, port), timeout=1.0) as probe:
                probe.sendall(_H2_PREFACE)
                if probe.recv(9):
                    return True
        except OSError:
            continue
    return False


#: What a gust example server prints once it listens (examples/src/lib.rs).
_ANNOUNCEMENT = re.compile(r"^listening on \S*:(\d+)$", re.MULTILINE)


class Server:
    """A server process under test, used as a context manager.

    With `port` 0 the server picks a free port and announces it (`listening
    on HOST:PORT`); `port` is then set from that line.

    Its stdout and stderr go to files in `log_dir`, read with `stdout()` and
    `stderr()` once the server has been stopped (leaving the `with` block stops
    it: SIGTERM, then SIGKILL after `STOP_DEADLINE_S`).
    """

    def __init__(self, name: str, cmd: list[str], port: int, log_dir: Path,
                 cwd: Path | None = None, env: dict[str, str] | None = None):
        self.name = name
        self.cmd = cmd
        self.port = port
        self.cwd = cwd
        self.env = env if env is not None else clean_env()
        self.out_path = log_dir / f"{name}.stdout"
        self.err_path = log_dir / f"{name}.stderr"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        if port_in_use(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use before starting {self.name}: "
                "a server from an earlier run is probably still alive")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True, preexec_fn=_default_sigint)
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} before listening "
                    f"on port {self.port}\n{self.logs()}")
            if self.port == 0:
                self.port = self._announced_port()
            if self.port and serves_http2(self.port):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} did not listen on port {self.port} within "
                    f"{START_DEADLINE_S} s\n{self.logs()}")
            time.sleep(0.05)

    def _announced_port(self) -> int:
        """The port in the `listening on HOST:PORT` line of a server started on
        port 0 (any free port), as gust's example servers print; 0 until then."""
        match = _ANNOUNCEMENT.search(self.out_path.read_text(errors="replace"))
        return int(match.group(1)) if match else 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop the server and wait for it to exit (idempotent)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                pass
        # The server runs in a process group of its own (start_new_session):
        # whatever of it is left, a wrapper's children included, is killed.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=STOP_DEADLINE_S)

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def logs(self) -> str:
        return (f"--- {self.name} stdout ---\n{self.stdout()}"
                f"--- {self.name} stderr ---\n{self.stderr()}")


def run_client(cmd: list[str], server: Server, stdin: str = "",
               cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a client to completion against `server`; return its stdout.

    Fails (with both sides' output) when the client exits non-zero, times out,
    or the server died during the call.
    """
    try:
        done = subprocess.run(
            cmd, cwd=cwd, env=env if env is not None else clean_env(),
            input=stdin.encode(), capture_output=True, timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        server.stop()
        raise AssertionError(
            f"client {cmd} timed out after {CLIENT_TIMEOUT_S} s\n"
            f"--- client stdout ---\n{(e.stdout or b'').decode(errors='replace')}"
            f"--- client stderr ---\n{(e.stderr or b'').decode(errors='replace')}"
            f"{server.logs()}") from None
    out = done.stdout.decode(errors="replace")
    err = done.stderr.decode(errors="replace")
    server_alive = server.alive()
    if done.returncode != 0 or not server_alive:
        server.stop()
        what = (f"client {cmd} exited with {done.returncode}" if done.returncode != 0
                else f"server {server.name} died during the call")
        raise AssertionError(
            f"{what}\n--- client stdout ---\n{out}--- client stderr ---\n{err}"
            f"{server.logs()}")
    return out
