"""TLS between gust and grpcio, both ways: gust's interop server called by
grpcio's interop client over `grpc.ssl_channel_credentials`, and grpcio's
interop server (`grpc.ssl_server_credentials`) called by gust's interop
client; server-name override, mutual TLS, and a CA that does not match.

The peers are the interop programs (interop/python, target/debug/interop-*),
started with `--port 0`; each prints `listening on PORT` once it serves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("GUST_BIN_DIR", REPO / "target" / "debug"))
sys.path.insert(0, str(REPO / "tests" / "python"))
import seedharness  # noqa: E402

PY_INTEROP = REPO / "interop" / "python"
#: Cases that cover the four call kinds and metadata.
CASES = ["large_unary", "client_streaming", "server_streaming", "ping_pong", "custom_metadata"]


class AnnouncingServer(seedharness.Server):
    """A server started on port 0 that prints `listening on PORT` when it
    serves: the harness's server, waiting for that line instead of a port."""

    def __init__(self, name: str, cmd: list[str], log_dir: Path):
        super().__init__(name, cmd, 0, log_dir)

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + seedharness.START_DEADLINE_S
        while True:
            for line in self.stdout().splitlines():
                if line.startswith("listening on "):
                    self.port = int(line.removeprefix("listening on "))
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not announce its port\n{self.logs()}")
            time.sleep(0.05)


def gust_server(certs, tmp_path, *extra: str) -> AnnouncingServer:
    return AnnouncingServer("gust-tls-server", [
        str(BIN_DIR / "interop-server"), "--port", "0", "--use_tls=true",
        "--tls_cert_file", certs["server.pem"], "--tls_key_file", certs["server.key"], *extra], tmp_path)


def grpcio_server(certs, tmp_path, *extra: str) -> AnnouncingServer:
    return AnnouncingServer("grpcio-tls-server", [
        sys.executable, str(PY_INTEROP / "server.py"), "--port", "0", "--use_tls", "true",
        "--tls_cert_file", certs["server.pem"], "--tls_key_file", certs["server.key"], *extra], tmp_path)


def grpcio_client(server, case: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PY_INTEROP / "client.py"), "--server_port", str(server.port),
         "--test_case", case, "--use_tls", "true", *flags],
        env=seedharness.clean_env(), capture_output=True, text=True, timeout=seedharness.CLIENT_TIMEOUT_S)


def gust_client(server, case: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN_DIR / "interop-client"), "--server_port", str(server.port), "--test_case", case,
         "--use_tls=true", *flags],
        env=seedharness.clean_env(), capture_output=True, text=True, timeout=seedharness.CLIENT_TIMEOUT_S)


def passed(done: subprocess.CompletedProcess, server) -> bool:
    if done.returncode != 0:
        print(f"--- client stdout ---\n{done.stdout}--- client stderr ---\n{done.stderr}")
    assert server.alive(), server.logs()
    return done.returncode == 0


@pytest.fixture(scope="session", autouse=True)
def binaries():
    for name in ("interop-server", "interop-client"):
        if not (BIN_DIR / name).exists():
            pytest.fail(f"{BIN_DIR / name} is missing: run cargo build -p gust-interop --bins (or set GUST_BIN_DIR)")


@pytest.mark.parametrize("case", CASES)
def test_grpcio_client_calls_gust_server_over_tls(certs, tmp_path, case):
    with gust_server(certs, tmp_path) as server:
        done = grpcio_client(server, case, "--server_host", "localhost", "--ca_file", certs["ca.pem"])
        assert passed(done, server)


def test_grpcio_client_with_target_name_override(certs, tmp_path):
    with gust_server(certs, tmp_path) as server:
        flags = ["--server_host", "127.0.0.1", "--ca_file", certs["ca.pem"], "--server_host_override", "foo.test"]
        assert passed(grpcio_client(server, "large_unary", *flags), server)


def test_grpcio_client_refuses_gust_server_of_another_ca(certs, tmp_path):
    with gust_server(certs, tmp_path) as server:
        done = grpcio_client(server, "empty_unary", "--server_host", "localhost", "--ca_file", certs["other-ca.pem"])
        assert not passed(done, server)
        assert "UNAVAILABLE" in done.stderr, done.stderr


def test_gust_server_requiring_client_certificates_with_grpcio_client(certs, tmp_path):
    with gust_server(certs, tmp_path, "--tls_client_ca_file", certs["ca.pem"],
                     "--tls_require_client_auth=true") as server:
        trusted = ["--server_host", "localhost", "--ca_file", certs["ca.pem"]]
        assert not passed(grpcio_client(server, "empty_unary", *trusted), server), "no certificate: refused"
        identity = ["--client_cert_file", certs["client.pem"], "--client_key_file", certs["client.key"]]
        assert passed(grpcio_client(server, "large_unary", *trusted, *identity), server)


@pytest.mark.parametrize("case", CASES)
def test_gust_client_calls_grpcio_server_over_tls(certs, tmp_path, case):
    with grpcio_server(certs, tmp_path) as server:
        done = gust_client(server, case, "--server_host", "localhost", "--ca_file", certs["ca.pem"])
        assert passed(done, server)


def test_gust_client_with_server_host_override(certs, tmp_path):
    with grpcio_server(certs, tmp_path) as server:
        flags = ["--server_host", "127.0.0.1", "--ca_file", certs["ca.pem"], "--server_host_override", "foo.test"]
        assert passed(gust_client(server, "large_unary", *flags), server)


def test_gust_client_refuses_grpcio_server_of_another_ca(certs, tmp_path):
    with grpcio_server(certs, tmp_path) as server:
        done = gust_client(server, "empty_unary", "--server_host", "localhost", "--ca_file", certs["other-ca.pem"])
        assert not passed(done, server)
        assert "UNAVAILABLE" in done.stderr, done.stderr


def test_grpcio_server_requiring_client_certificates_with_gust_client(certs, tmp_path):
    with grpcio_server(certs, tmp_path, "--tls_client_ca_file", certs["ca.pem"],
                       "--tls_require_client_auth", "true") as server:
        trusted = ["--server_host", "localhost", "--ca_file", certs["ca.pem"]]
        assert not passed(gust_client(server, "empty_unary", *trusted), server), "no certificate: refused"
        identity = ["--client_cert_file", certs["client.pem"], "--client_key_file", certs["client.key"]]
        assert passed(gust_client(server, "large_unary", *trusted, *identity), server)
