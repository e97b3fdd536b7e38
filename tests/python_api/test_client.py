"""The client API: the four call kinds, with_call, future, timeouts,
cancellation, channels. Every test runs for every pair of server and client
implementations (gust, grpcio)."""

from __future__ import annotations

import threading

import pytest


def echo_service(s):
    """Handlers of the four kinds, on bytes."""

    def unary(request, context):
        return request

    def server_stream(request, context):
        for index in range(int(request)):
            yield b"%d" % index

    def client_stream(request_iterator, context):
        return b",".join(request_iterator)

    def bidi(request_iterator, context):
        for request in request_iterator:
            yield request.upper()

    def fail(request, context):
        context.abort(s.StatusCode.INVALID_ARGUMENT, "bad request: %s" % request.decode())

    return {
        "Unary": s.unary_unary_rpc_method_handler(unary),
        "ServerStream": s.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": s.stream_unary_rpc_method_handler(client_stream),
        "Bidi": s.stream_stream_rpc_method_handler(bidi),
        "Fail": s.unary_unary_rpc_method_handler(fail),
    }


@pytest.fixture
def echo(pair):
    _, port = pair.serve(echo_service(pair.server_mod))
    return pair.channel(port)


def test_four_kinds(pair, echo):
    assert echo.unary_unary("/test.Svc/Unary")(b"hello") == b"hello"
    assert list(echo.unary_stream("/test.Svc/ServerStream")(b"4")) == [b"0", b"1", b"2", b"3"]
    assert echo.stream_unary("/test.Svc/ClientStream")(iter([b"a", b"b", b"c"])) == b"a,b,c"
    assert list(echo.stream_stream("/test.Svc/Bidi")(iter([b"x", b"y"]))) == [b"X", b"Y"]


def test_serializers(pair):
    s = pair.server_mod

    def handler(request, context):
        return {"got": request["n"] * 2}

    import json

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(
        handler, request_deserializer=json.loads, response_serializer=lambda m: json.dumps(m).encode())})
    call = pair.channel(port).unary_unary(
        "/test.Svc/M", request_serializer=lambda m: json.dumps(m).encode(), response_deserializer=json.loads)
    assert call({"n": 21}) == {"got": 42}


def test_empty_and_large_messages(pair, echo):
    call = echo.unary_unary("/test.Svc/Unary")
    assert call(b"") == b""
    big = bytes(range(256)) * 12288  # 3 MiB: under the 4 MiB default limit
    assert call(big) == big


def test_with_call(pair, echo):
    response, call = echo.unary_unary("/test.Svc/Unary").with_call(b"hi")
    assert response == b"hi"
    assert call.code().name == "OK"
    assert call.details() in ("", None)
    assert not call.is_active()
    response, call = echo.stream_unary("/test.Svc/ClientStream").with_call(iter([b"1", b"2"]))
    assert response == b"1,2"
    assert call.code().name == "OK"


def test_future(pair, echo):
    future = echo.unary_unary("/test.Svc/Unary").future(b"later")
    assert future.result(timeout=30) == b"later"
    assert future.done() and not future.running() and not future.cancelled()
    assert future.exception() is None
    assert future.code().name == "OK"

    failed = echo.unary_unary("/test.Svc/Fail").future(b"x")
    error = failed.exception(timeout=30)
    assert isinstance(error, pair.client_mod.RpcError)
    assert error.code().name == "INVALID_ARGUMENT"
    assert failed.traceback() is not None
    with pytest.raises(pair.client_mod.RpcError):
        failed.result()

    streamed = echo.stream_unary("/test.Svc/ClientStream").future(iter([b"p", b"q"]))
    assert streamed.result(timeout=30) == b"p,q"


def test_future_done_callbacks(pair, echo):
    called = threading.Event()
    seen = []

    def done(future):
        seen.append(future.result())
        called.set()

    future = echo.unary_unary("/test.Svc/Unary").future(b"cb")
    future.add_done_callback(done)
    assert called.wait(30)
    assert seen == [b"cb"]
    # Added once done: called at once.
    later = []
    future.add_done_callback(lambda f: later.append(f.result()))
    assert later == [b"cb"]


def test_error_is_a_call(pair, echo):
    with pytest.raises(pair.client_mod.RpcError) as caught:
        echo.unary_unary("/test.Svc/Fail")(b"oops")
    error = caught.value
    assert isinstance(error, pair.client_mod.Call)
    assert error.code() is pair.client_mod.StatusCode.INVALID_ARGUMENT
    assert error.details() == "bad request: oops"
    assert isinstance(error.initial_metadata(), tuple)
    assert isinstance(error.trailing_metadata(), tuple)
    assert "INVALID_ARGUMENT" in str(error)
    assert "bad request: oops" in str(error)


def test_unknown_method_and_service(pair, echo):
    for path in ("/test.Svc/Nope", "/nope.Svc/Nope"):
        with pytest.raises(pair.client_mod.RpcError) as caught:
            echo.unary_unary(path)(b"")
        assert caught.value.code().name == "UNIMPLEMENTED"


def test_timeout_is_deadline_exceeded(pair):
    s = pair.server_mod
    release = threading.Event()

    def slow(request, context):
        release.wait(30)
        return b"too late"

    def slow_stream(request, context):
        yield b"first"
        release.wait(30)
        yield b"too late"

    _, port = pair.serve({"Slow": s.unary_unary_rpc_method_handler(slow),
                          "SlowStream": s.unary_stream_rpc_method_handler(slow_stream)})
    channel = pair.channel(port)
    try:
        with pytest.raises(pair.client_mod.RpcError) as caught:
            channel.unary_unary("/test.Svc/Slow")(b"", timeout=0.2)
        assert caught.value.code().name == "DEADLINE_EXCEEDED"
        responses = channel.unary_stream("/test.Svc/SlowStream")(b"", timeout=0.5)
        assert next(responses) == b"first"
        with pytest.raises(pair.client_mod.RpcError) as caught:
            next(responses)
        assert caught.value.code().name == "DEADLINE_EXCEEDED"
    finally:
        release.set()


def test_the_server_sees_the_deadline_pass(pair):
    s = pair.server_mod
    ended = threading.Event()
    inactive = threading.Event()

    def handler(request, context):
        context.add_callback(ended.set)
        while context.is_active():
            ended.wait(0.01)
        inactive.set()
        return b""

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    with pytest.raises(pair.client_mod.RpcError) as caught:
        pair.channel(port).unary_unary("/test.Svc/M")(b"", timeout=0.2)
    assert caught.value.code().name == "DEADLINE_EXCEEDED"
    assert ended.wait(30)
    assert inactive.wait(30)


def test_cancel_a_future(pair):
    s = pair.server_mod
    release = threading.Event()
    started = threading.Event()

    def slow(request, context):
        started.set()
        release.wait(30)
        return b""

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(slow)})
    future = pair.channel(port).unary_unary("/test.Svc/M").future(b"")
    try:
        assert started.wait(30)
        assert future.cancel()
        assert future.cancelled()
        assert future.done()
        with pytest.raises(pair.client_mod.FutureCancelledError):
            future.result()
        assert future.code().name == "CANCELLED"
        assert not future.cancel()
    finally:
        release.set()


def test_future_result_timeout(pair):
    s = pair.server_mod
    release = threading.Event()

    def slow(request, context):
        release.wait(30)
        return b"eventually"

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(slow)})
    future = pair.channel(port).unary_unary("/test.Svc/M").future(b"")
    with pytest.raises(pair.client_mod.FutureTimeoutError):
        future.result(timeout=0.05)
    release.set()
    assert future.result(timeout=30) == b"eventually"


def test_request_iterator_is_read_lazily(pair):
    """A bidi call whose requests depend on the responses: each request is
    produced only after the previous response arrived."""
    s = pair.server_mod

    def bidi(request_iterator, context):
        for request in request_iterator:
            yield request + b"!"

    _, port = pair.serve({"M": s.stream_stream_rpc_method_handler(bidi)})
    got = []
    turn = threading.Event()
    turn.set()

    def requests():
        for word in (b"a", b"b", b"c"):
            assert turn.wait(30)
            turn.clear()
            yield word

    for response in pair.channel(port).stream_stream("/test.Svc/M")(requests()):
        got.append(response)
        turn.set()
    assert got == [b"a!", b"b!", b"c!"]


def test_request_iterator_exception_fails_the_call(pair, echo):
    def requests():
        yield b"fine"
        raise RuntimeError("cannot go on")

    with pytest.raises(pair.client_mod.RpcError) as caught:
        echo.stream_unary("/test.Svc/ClientStream")(requests())
    assert caught.value.code().name == "UNKNOWN"
    assert caught.value.details() == "Exception iterating requests!"


def test_channel_context_manager_and_close(pair):
    _, port = pair.serve(echo_service(pair.server_mod))
    with pair.client_mod.insecure_channel(f"localhost:{port}") as channel:
        call = channel.unary_unary("/test.Svc/Unary")
        assert call(b"inside") == b"inside"
    with pytest.raises(ValueError):
        call(b"after close")


def test_close_cancels_calls_in_flight(pair):
    s = pair.server_mod
    release = threading.Event()
    started = threading.Event()

    def slow(request, context):
        started.set()
        release.wait(30)
        yield b"x"

    _, port = pair.serve({"M": s.unary_stream_rpc_method_handler(slow)})
    channel = pair.client_mod.insecure_channel(f"localhost:{port}")
    responses = channel.unary_stream("/test.Svc/M")(b"")
    try:
        assert started.wait(30)
        channel.close()
        with pytest.raises(pair.client_mod.RpcError) as caught:
            next(responses)
        assert caught.value.code().name == "CANCELLED"
    finally:
        release.set()


def test_unavailable_server(pair):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = pair.channel(port)
    with pytest.raises(pair.client_mod.RpcError) as caught:
        channel.unary_unary("/test.Svc/Unary")(b"", timeout=10)
    assert caught.value.code().name == "UNAVAILABLE"


def test_wait_for_ready_waits_for_the_server(pair):
    """A call with wait_for_ready made before the server listens succeeds
    once it does."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = pair.channel(port)
    future = channel.unary_unary("/test.Svc/Unary").future(b"patient", wait_for_ready=True, timeout=60)
    s = pair.server_mod
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    server = s.server(pool)
    server.add_generic_rpc_handlers((s.method_handlers_generic_handler("test.Svc", echo_service(s)),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        assert future.result(timeout=60) == b"patient"
    finally:
        server.stop(None).wait(30)
        pool.shutdown(wait=False)


def test_compression(pair, echo):
    c = pair.client_mod
    call = echo.unary_unary("/test.Svc/Unary")
    message = b"compressible " * 1000
    assert call(message, compression=c.Compression.Gzip) == message
    assert call(message, compression=c.Compression.Deflate) == message
    with c.insecure_channel(f"localhost:{pair.port}", compression=c.Compression.Gzip) as channel:
        assert list(channel.stream_stream("/test.Svc/Bidi")(iter([message]))) == [message.upper()]


def test_message_size_limits(pair):
    s = pair.server_mod
    _, port = pair.serve(echo_service(s), options=[("grpc.max_receive_message_length", 1000)])
    call = pair.channel(port).unary_unary("/test.Svc/Unary")
    assert call(b"x" * 1000) == b"x" * 1000
    with pytest.raises(pair.client_mod.RpcError) as caught:
        call(b"x" * 1001)
    assert caught.value.code().name == "RESOURCE_EXHAUSTED"
    channel = pair.channel(port, options=[("grpc.max_receive_message_length", 10)])
    with pytest.raises(pair.client_mod.RpcError) as caught:
        channel.unary_unary("/test.Svc/Unary")(b"y" * 11)
    assert caught.value.code().name == "RESOURCE_EXHAUSTED"
