"""The end of a program that uses gust: it exits cleanly (status 0, no
crash) even with calls in flight and threads blocked in gust, and a blocked
`wait_for_termination()` or blocking call gives way to Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

PRELUDE = textwrap.dedent("""
    import concurrent.futures, threading, time
    import gust

    release = threading.Event()

    def blocked(request, context):
        while context.is_active() and not release.is_set():
            release.wait(0.05)
        return b""

    def read_all(request_iterator, context):
        for _ in request_iterator:
            pass
        return b""

    server = gust.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((gust.method_handlers_generic_handler("t.S", {
        "Blocked": gust.unary_unary_rpc_method_handler(blocked),
        "ReadAll": gust.stream_unary_rpc_method_handler(read_all),
    }),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = gust.insecure_channel(f"127.0.0.1:{port}")
""")


def run(program: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(program)],
                          capture_output=True, text=True, timeout=60)


def test_exit_with_a_daemon_thread_blocked_in_a_call():
    """The interpreter finalizes while a daemon thread waits in gust: that
    thread must not take the GIL again (nor crash the process)."""
    done = run("""
        import socket
        silent = socket.socket()  # accepts connections, never speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        waiting = threading.Event()
        def call():
            waiting.set()
            gust.insecure_channel("127.0.0.1:%d" % silent.getsockname()[1]).unary_unary("/t.S/M")(b"")
        threading.Thread(target=call, daemon=True).start()
        waiting.wait()
        time.sleep(0.3)
        print("main done")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "main done\n", done.stderr
    assert "Fatal" not in done.stderr and "panicked" not in done.stderr


def test_exit_with_a_handler_blocked_on_its_request_stream():
    done = run("""
        never = threading.Event()
        def requests():
            yield b"one"
            never.wait()
        def call():
            try:
                channel.stream_unary("/t.S/ReadAll")(requests())
            except gust.RpcError:
                pass
        threading.Thread(target=call, daemon=True).start()
        time.sleep(0.3)
        print("main done")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "main done\n", done.stderr


def _interrupt(program: str) -> tuple[int, str]:
    proc = subprocess.Popen([sys.executable, "-c", PRELUDE + textwrap.dedent(program)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        if line != "waiting\n":
            proc.kill()
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"the program did not start waiting ({proc.returncode}):\n{line}{out}{err}")
        time.sleep(0.2)  # let it block; the signal works whenever it comes
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, out + err


def test_ctrl_c_interrupts_wait_for_termination():
    status, output = _interrupt("""
        print("waiting", flush=True)
        try:
            server.wait_for_termination()
        except KeyboardInterrupt:
            server.stop(0).wait()
            print("stopped")
    """)
    assert status == 0, output
    assert "stopped" in output


def test_ctrl_c_interrupts_a_blocking_call():
    status, output = _interrupt("""
        print("waiting", flush=True)
        try:
            channel.unary_unary("/t.S/Blocked")(b"")
        except KeyboardInterrupt:
            print("interrupted")
        release.set()
    """)
    assert status == 0, output
    assert "interrupted" in output


@pytest.mark.parametrize("kind", ["unary_stream", "stream_stream"])
def test_ctrl_c_interrupts_reading_a_response_stream(kind):
    status, output = _interrupt(f"""
        def slow(request, context):
            yield b"first"
            release.wait()
        server2 = gust.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
        server2.add_generic_rpc_handlers((gust.method_handlers_generic_handler("t.T", {{
            "Slow": gust.{kind}_rpc_method_handler(slow),
        }}),))
        port2 = server2.add_insecure_port("127.0.0.1:0")
        server2.start()
        request = b"" if "{kind}" == "unary_stream" else iter([b""])
        responses = gust.insecure_channel(f"127.0.0.1:{{port2}}").{kind}("/t.T/Slow")(request)
        assert next(responses) == b"first"
        print("waiting", flush=True)
        try:
            next(responses)
        except KeyboardInterrupt:
            print("interrupted")
        release.set()
    """)
    assert status == 0, output
    assert "interrupted" in output
