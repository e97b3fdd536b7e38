"""The seeds' four services, with their own Python programs
(examples/python/, unchanged), on gust: every program runs with
`python -m gust program.py`, so its `import grpc` (and its stubs', generated
by grpcio-tools) gives gust. Each pairing of a gust program with a grpcio
or gust program is run: gust <-> gust, gust server <- grpcio client, grpcio
server <- gust client."""

from __future__ import annotations

import math
import signal
import struct

import pytest

from seedrun import Server, run_client

FIBONACCI_PORT = 1337
SEED_PORT = 50051

#: Server and client implementations; grpcio <-> grpcio is tests/python's.
PAIRINGS = [("gust", "gust"), ("gust", "grpcio"), ("grpcio", "gust")]
PAIRING_IDS = [f"{s}-server-{c}-client" for s, c in PAIRINGS]

FIB_1_TO_7 = [f"Fibonacci #{i}: {v}" for i, v in enumerate([1, 1, 2, 3, 5, 8, 13], start=1)]
PROMPTS = ("enter an index integer: ", "enter an index (or nothing to stop): ",
           "enter the next increment (or nothing to stop): ")

#: Fibonacci: the seed client, what is typed, and the result lines printed.
FIB_KINDS = {
    "unary": ("client_unary.py", "7\n", ["Fibonacci #7: 13"]),
    "server-stream": ("client_server_stream.py", "7\n", FIB_1_TO_7),
    "client-stream": ("client_client_stream.py", "7\n5\n\n", ["Sum: 18"]),
    "bidi": ("client_bidirectional_stream.py", "4\n2\n1\n\n", FIB_1_TO_7),
}


def result_lines(stdout: str) -> list[str]:
    for prompt in PROMPTS:
        stdout = stdout.replace(prompt, "\n")
    return [line for line in stdout.splitlines() if line.strip() and line != "done sending"]


@pytest.mark.parametrize("kind", list(FIB_KINDS))
@pytest.mark.parametrize("server_impl,client_impl", PAIRINGS, ids=PAIRING_IDS)
def test_fibonacci(stubs, tmp_path, server_impl, client_impl, kind):
    program, stdin, results = FIB_KINDS[kind]
    with Server(server_impl, "fibonacci", FIBONACCI_PORT, stubs, tmp_path) as server:
        out = run_client(client_impl, "fibonacci", program, server, stubs, stdin=stdin)
    assert result_lines(out) == results
    if kind in ("client-stream", "bidi"):
        assert out.count("done sending") == 1


@pytest.mark.parametrize("server_impl,client_impl", PAIRINGS, ids=PAIRING_IDS)
def test_greeter(stubs, tmp_path, server_impl, client_impl):
    with Server(server_impl, "helloworld", SEED_PORT, stubs, tmp_path) as server:
        out = run_client(client_impl, "helloworld", "client.py", server, stubs)
    assert out == "Greeter client received: Hello, you!\n"


@pytest.mark.parametrize("server_impl,client_impl", PAIRINGS, ids=PAIRING_IDS)
def test_displacement(stubs, tmp_path, server_impl, client_impl):
    distance = struct.unpack("<f", struct.pack("<f", math.sqrt(148)))[0]
    with Server(server_impl, "displacement", SEED_PORT, stubs, tmp_path) as server:
        out = run_client(client_impl, "displacement", "client.py", server, stubs)
    assert out == f"calling server...\ndistance: {distance}\n"


@pytest.mark.parametrize("server_impl,client_impl", PAIRINGS, ids=PAIRING_IDS)
def test_request_streaming(stubs, tmp_path, server_impl, client_impl):
    with Server(server_impl, "request_streaming", SEED_PORT, stubs, tmp_path) as server:
        out = run_client(client_impl, "request_streaming", "client.py", server, stubs)
    assert out == "calling server...\n"
    payloads = [line for line in server.stdout().splitlines() if line.startswith("payload Recv:")]
    assert payloads == [
        "payload Recv: status: 0 | info: 'no record....'",
        "payload Recv: status: 3 | info: 'Too long without food.'",
        "payload Recv: status: 2 | info: 'Requires watering.'",
        "payload Recv: status: 4 | info: 'Shutting down for the night.'",
        "payload Recv: status: 1 | info: 'OK.'",
    ]


@pytest.mark.parametrize("service,port", [("helloworld", SEED_PORT), ("fibonacci", FIBONACCI_PORT),
                                          ("displacement", SEED_PORT)])
def test_ctrl_c_stops_a_seed_server_as_with_grpcio(stubs, tmp_path, service, port):
    """SIGINT (Ctrl-C) ends the seed servers on gust as on grpcio: the
    helloworld server catches KeyboardInterrupt and calls stop(0); the others
    leave wait_for_termination() with it. Same exit status, and the port is
    free afterwards."""
    statuses = {}
    for impl in ("grpcio", "gust"):
        with Server(impl, service, port, stubs, tmp_path) as server:
            statuses[impl] = server.signal(signal.SIGINT)
            if impl == "gust":
                stderr = server.err_path.read_text(errors="replace")
        assert not server.alive()
    assert statuses["gust"] == statuses["grpcio"], stderr
    if service == "helloworld":
        assert statuses["gust"] == 0, stderr
    else:
        assert "KeyboardInterrupt" in stderr
