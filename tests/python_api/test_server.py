"""The server's life: ports, start, stop(grace), wait_for_termination,
concurrency limit, handlers. Every test runs for every pair of server and
client implementations (gust, grpcio) unless it is about gust alone."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

import gust


def test_port_zero_on_all_interfaces(pair):
    s = pair.server_mod
    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(lambda r, c: r)})
    assert 0 < port < 65536
    for host in ("localhost", "127.0.0.1", "[::1]"):
        channel = pair.client_mod.insecure_channel(f"{host}:{port}")
        with channel:
            assert channel.unary_unary("/test.Svc/M")(host.encode()) == host.encode()


def test_two_ports(pair):
    s = pair.server_mod
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    server = s.server(pool)
    server.add_generic_rpc_handlers((s.method_handlers_generic_handler(
        "test.Svc", {"M": s.unary_unary_rpc_method_handler(lambda r, c: r)}),))
    ports = [server.add_insecure_port("127.0.0.1:0"), server.add_insecure_port("[::]:0")]
    server.start()
    try:
        for port in ports:
            with pair.client_mod.insecure_channel(f"localhost:{port}") as channel:
                assert channel.unary_unary("/test.Svc/M")(b"p") == b"p"
    finally:
        server.stop(None).wait(30)
        pool.shutdown(wait=False)


def test_handlers_added_after_the_port(pair):
    """grpcio lets handlers be added after add_insecure_port (until start)."""
    s = pair.server_mod
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    server = s.server(pool)
    port = server.add_insecure_port("[::]:0")
    server.add_generic_rpc_handlers((s.method_handlers_generic_handler(
        "late.Svc", {"M": s.unary_unary_rpc_method_handler(lambda r, c: b"late " + r)}),))
    server.add_registered_method_handlers(
        "registered.Svc", {"M": s.unary_unary_rpc_method_handler(lambda r, c: b"registered " + r)})
    server.start()
    try:
        with pair.client_mod.insecure_channel(f"localhost:{port}") as channel:
            assert channel.unary_unary("/late.Svc/M")(b"x") == b"late x"
            assert channel.unary_unary("/registered.Svc/M")(b"y") == b"registered y"
    finally:
        server.stop(None).wait(30)
        pool.shutdown(wait=False)


def test_stop_returns_an_event_and_ends_wait_for_termination(pair):
    s = pair.server_mod
    server, port = pair.serve({"M": s.unary_unary_rpc_method_handler(lambda r, c: r)})
    assert pair.channel(port).unary_unary("/test.Svc/M")(b"up") == b"up"
    assert server.wait_for_termination(timeout=0.05) is True  # timed out: still serving
    event = server.stop(None)
    assert isinstance(event, threading.Event)
    assert event.wait(30)
    assert server.wait_for_termination(timeout=30) is False
    with pytest.raises(pair.client_mod.RpcError) as caught:
        pair.channel(port).unary_unary("/test.Svc/M")(b"down", timeout=10)
    assert caught.value.code().name == "UNAVAILABLE"


def test_stop_with_grace_lets_calls_in_flight_finish(pair):
    s = pair.server_mod
    started = threading.Event()
    release = threading.Event()

    def slow(request, context):
        started.set()
        release.wait(30)
        return b"finished in grace"

    server, port = pair.serve({"M": s.unary_unary_rpc_method_handler(slow)})
    future = pair.channel(port).unary_unary("/test.Svc/M").future(b"")
    assert started.wait(30)
    event = server.stop(60)
    release.set()
    assert future.result(timeout=30) == b"finished in grace"
    assert event.wait(30)


def test_stop_without_grace_cancels_calls_in_flight(pair):
    s = pair.server_mod
    started = threading.Event()
    ended = threading.Event()

    def slow(request, context):
        context.add_callback(ended.set)
        started.set()
        while context.is_active():
            ended.wait(0.01)
        return b"never seen"

    server, port = pair.serve({"M": s.unary_unary_rpc_method_handler(slow)})
    future = pair.channel(port).unary_unary("/test.Svc/M").future(b"")
    assert started.wait(30)
    assert server.stop(None).wait(30)
    error = future.exception(timeout=30)
    assert error is not None
    assert error.code().name in ("UNAVAILABLE", "CANCELLED")
    assert ended.wait(30)


def test_stop_before_start(pair):
    s = pair.server_mod
    server = s.server(concurrent.futures.ThreadPoolExecutor(max_workers=1))
    server.add_insecure_port("[::]:0")
    assert server.stop(None).wait(30)


def test_maximum_concurrent_rpcs(pair):
    s = pair.server_mod
    started = threading.Event()
    release = threading.Event()

    def slow(request, context):
        started.set()
        release.wait(30)
        return b"first"

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(slow)}, maximum_concurrent_rpcs=1)
    call = pair.channel(port).unary_unary("/test.Svc/M")
    first = call.future(b"")
    try:
        assert started.wait(30)
        with pytest.raises(pair.client_mod.RpcError) as caught:
            call(b"")
        assert caught.value.code().name == "RESOURCE_EXHAUSTED"
        assert caught.value.details() == "Concurrent RPC limit exceeded!"
    finally:
        release.set()
    assert first.result(timeout=30) == b"first"


def test_handlers_run_on_the_given_executor(pair):
    s = pair.server_mod
    names = []

    def handler(request, context):
        names.append(threading.current_thread().name)
        return b""

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="given-pool")
    server = s.server(pool)
    server.add_generic_rpc_handlers((s.method_handlers_generic_handler(
        "test.Svc", {"M": s.unary_unary_rpc_method_handler(handler)}),))
    port = server.add_insecure_port("[::]:0")
    server.start()
    try:
        with pair.client_mod.insecure_channel(f"localhost:{port}") as channel:
            for _ in range(3):
                channel.unary_unary("/test.Svc/M")(b"")
    finally:
        server.stop(None).wait(30)
        pool.shutdown(wait=False)
    assert names and all(name.startswith("given-pool") for name in names)


def test_server_interceptor(pair):
    s = pair.server_mod
    seen = []

    class Interceptor(s.ServerInterceptor):
        def intercept_service(self, continuation, handler_call_details):
            seen.append((handler_call_details.method,
                         dict(handler_call_details.invocation_metadata).get("who")))
            if handler_call_details.method.endswith("/Denied"):
                return s.unary_unary_rpc_method_handler(
                    lambda r, c: c.abort(s.StatusCode.PERMISSION_DENIED, "denied"))
            return continuation(handler_call_details)

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(lambda r, c: r)},
                         interceptors=[Interceptor()])
    channel = pair.channel(port)
    assert channel.unary_unary("/test.Svc/M")(b"ok", metadata=(("who", "me"),)) == b"ok"
    with pytest.raises(pair.client_mod.RpcError) as caught:
        channel.unary_unary("/test.Svc/Denied")(b"")
    assert caught.value.code().name == "PERMISSION_DENIED"
    assert ("/test.Svc/M", "me") in seen


def test_slow_reader_blocks_the_streaming_handler(gust_server_pair):
    """Flow control reaches the handler: while the client reads nothing, a
    gust server streaming 1 MiB messages gets only a bounded number ahead."""
    gust_pair = gust_server_pair
    s = gust_pair.server_mod
    sent = []
    finished = threading.Event()
    size, count = 1 << 20, 64

    def handler(request, context):
        for index in range(count):
            sent.append(index)
            yield bytes(size)
        finished.set()

    _, port = gust_pair.serve({"M": s.unary_stream_rpc_method_handler(handler)})
    channel = gust_pair.channel(port, options=[("grpc.max_receive_message_length", 2 * size)])
    responses = channel.unary_stream("/test.Svc/M")(b"")
    assert len(next(responses)) == size
    # Whatever the timing, the handler cannot finish while one message was read.
    assert not finished.wait(1.0)
    assert len(sent) < count
    assert sum(1 for _ in responses) == count - 1
    assert finished.wait(30)


def test_large_request_stream_is_sent_with_backpressure(pair):
    s = pair.server_mod
    size, count = 256 * 1024, 40

    def handler(request_iterator, context):
        total = 0
        for request in request_iterator:
            total += len(request)
        return b"%d" % total

    _, port = pair.serve({"M": s.stream_unary_rpc_method_handler(handler)})
    produced = []

    def requests():
        for index in range(count):
            produced.append(index)
            yield bytes(size)

    assert pair.channel(port).stream_unary("/test.Svc/M")(requests()) == b"%d" % (size * count)
    assert len(produced) == count


def test_many_concurrent_calls(pair):
    s = pair.server_mod
    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(lambda r, c: r)}, max_workers=4)
    call = pair.channel(port).unary_unary("/test.Svc/M")
    futures = [call.future(b"%d" % index) for index in range(200)]
    assert [f.result(timeout=60) for f in futures] == [b"%d" % index for index in range(200)]


def test_generic_handler_without_service_name_warns():
    class Anything(gust.GenericRpcHandler):
        def service(self, details):
            return None

    server = gust.server(concurrent.futures.ThreadPoolExecutor(max_workers=1))
    with pytest.warns(RuntimeWarning, match="service_name"):
        server.add_generic_rpc_handlers((Anything(),))
    server.stop(None)
