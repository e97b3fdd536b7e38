"""Fixtures of the standard services' tests: gust's Greeter example server
(examples/src/bin/greeter-server.rs, which also serves health and reflection)
as a process on a free port, found in $GUST_BIN_DIR (default
<repo>/target/debug; `cargo build -p gust-examples --bins` builds it).

Process handling is the interop tests' harness, tests/python/seedharness.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import grpc
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("GUST_BIN_DIR", REPO / "target" / "debug"))

sys.path.insert(0, str(REPO / "tests" / "python"))
import seedharness  # noqa: E402


class Greeter:
    """A running greeter-server process and a grpcio channel to it."""

    def __init__(self, server: seedharness.Server):
        self.server = server
        self.channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")

    def close(self) -> None:
        self.channel.close()


@pytest.fixture
def start_greeter(tmp_path):
    """Starts gust's Greeter server on 127.0.0.1, any port; stops it after the test."""
    binary = BIN_DIR / "greeter-server"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: `cargo build -p gust-examples --bins` or set GUST_BIN_DIR")
    started = []

    def start() -> Greeter:
        server = seedharness.Server(f"greeter-server-{len(started)}", [str(binary), "--addr", "127.0.0.1:0"],
                                    0, tmp_path)
        server.__enter__()
        started.append(Greeter(server))
        return started[-1]

    yield start
    for greeter in started:
        greeter.close()
        greeter.server.stop()


@pytest.fixture
def greeter(start_greeter) -> Greeter:
    return start_greeter()
