"""The servicer context and how handlers end calls, seen from the client.

Every test runs for every pair of server and client implementations (gust,
grpcio); grpcio <-> grpcio is the reference behaviour.
"""

from __future__ import annotations

import threading

import pytest

ALL_ERROR_CODES = [
    "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]


def rpc_error(client_mod, call, *args, **kwargs):
    with pytest.raises(client_mod.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("code", ALL_ERROR_CODES)
def test_set_code_and_details_then_return(pair, code):
    s = pair.server_mod

    def handler(request, context):
        context.set_code(getattr(s.StatusCode, code))
        context.set_details(f"details of {code}")
        return b"ignored"

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == code
    assert error.details() == f"details of {code}"


def test_context_code_and_details_read_back(pair):
    s = pair.server_mod
    seen = {}

    def handler(request, context):
        seen["before"] = (context.code(), context.details())
        context.set_code(s.StatusCode.NOT_FOUND)
        context.set_details("no such thing")
        seen["after"] = (context.code(), context.details())
        return b""

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "NOT_FOUND"
    assert seen["before"] == (None, None)
    # grpcio keeps the details as bytes.
    assert seen["after"] == (s.StatusCode.NOT_FOUND, b"no such thing")


def test_abort_raises_and_sets_the_status(pair):
    s = pair.server_mod
    after_abort = []

    def handler(request, context):
        context.set_trailing_metadata((("why", "because"),))
        try:
            context.abort(s.StatusCode.PERMISSION_DENIED, "go away")
        except Exception:
            after_abort.append("raised")
            raise
        after_abort.append("returned")
        return b""

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "PERMISSION_DENIED"
    assert error.details() == "go away"
    assert ("why", "because") in [tuple(m) for m in error.trailing_metadata()]
    assert after_abort == ["raised"]


def test_abort_with_status(pair):
    s = pair.server_mod

    class Status(s.Status):
        code = s.StatusCode.FAILED_PRECONDITION
        details = "not now"
        trailing_metadata = (("retry-after", "10"),)

    def handler(request, context):
        context.abort_with_status(Status())

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "FAILED_PRECONDITION"
    assert error.details() == "not now"
    assert ("retry-after", "10") in [tuple(m) for m in error.trailing_metadata()]


def test_abort_in_a_response_stream(pair):
    s = pair.server_mod

    def handler(request, context):
        yield b"one"
        context.abort(s.StatusCode.OUT_OF_RANGE, "no more")

    _, port = pair.serve({"M": s.unary_stream_rpc_method_handler(handler)})
    responses = pair.channel(port).unary_stream("/test.Svc/M")(b"")
    assert next(responses) == b"one"
    with pytest.raises(pair.client_mod.RpcError) as caught:
        next(responses)
    assert caught.value.code().name == "OUT_OF_RANGE"
    assert caught.value.details() == "no more"
    assert responses.code().name == "OUT_OF_RANGE"


@pytest.mark.parametrize("kind", ["unary_unary", "unary_stream", "stream_unary", "stream_stream"])
def test_exception_in_handler_is_unknown(pair, kind):
    s = pair.server_mod

    def handler(request, context):
        raise ValueError("boom")

    def stream_handler(request, context):
        raise ValueError("boom")
        yield b""  # a generator: the exception comes while iterating

    streaming_response = kind.endswith("_stream")
    behavior = stream_handler if streaming_response else handler
    make = getattr(s, f"{kind}_rpc_method_handler")
    _, port = pair.serve({"M": make(behavior)})
    call = getattr(pair.channel(port), kind)("/test.Svc/M")
    request = b"" if kind.startswith("unary") else iter([b"a"])
    if streaming_response:
        with pytest.raises(pair.client_mod.RpcError) as caught:
            list(call(request))
        error = caught.value
        assert error.details() == "Exception iterating responses: boom"
    else:
        error = rpc_error(pair.client_mod, call, request)
        assert error.details() == "Exception calling application: boom"
    assert error.code().name == "UNKNOWN"


def test_unary_handler_returning_none_is_an_error(pair):
    s = pair.server_mod
    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(lambda request, context: None)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "INTERNAL"
    assert error.details() == "Failed to serialize response!"


def test_unary_handler_returning_none_after_set_code(pair):
    s = pair.server_mod

    def handler(request, context):
        context.set_code(s.StatusCode.NOT_FOUND)
        context.set_details("nothing here")

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "NOT_FOUND"
    assert error.details() == "nothing here"


def test_metadata_both_ways_including_binary(pair):
    s = pair.server_mod
    seen = {}

    def handler(request, context):
        seen["metadata"] = [tuple(m) for m in context.invocation_metadata()]
        context.send_initial_metadata((("initial", "yes"), ("initial-bin", b"\x00\x01\xfe\xff")))
        context.set_trailing_metadata((("trailing", "also"), ("trailing-bin", b"\xff" * 5)))
        return request

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    call = pair.channel(port).unary_unary("/test.Svc/M")
    sent = (("key", "value"), ("key", "second"), ("data-bin", bytes(range(256))))
    response, info = call.with_call(b"ping", metadata=sent)
    assert response == b"ping"
    for entry in sent:
        assert entry in seen["metadata"]
    assert [e for e in seen["metadata"] if e[0] == "key"] == [("key", "value"), ("key", "second")]
    initial = [tuple(m) for m in info.initial_metadata()]
    trailing = [tuple(m) for m in info.trailing_metadata()]
    assert ("initial", "yes") in initial
    assert ("initial-bin", b"\x00\x01\xfe\xff") in initial
    assert ("trailing", "also") in trailing
    assert ("trailing-bin", b"\xff" * 5) in trailing
    assert all(hasattr(m, "key") and hasattr(m, "value") for m in info.initial_metadata())


def test_metadata_on_errors(pair):
    s = pair.server_mod

    def handler(request, context):
        context.send_initial_metadata((("initial", "sent"),))
        context.set_trailing_metadata((("trailing-bin", b"\x01\x02"),))
        context.abort(s.StatusCode.ABORTED, "conflict")

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "ABORTED"
    assert ("initial", "sent") in [tuple(m) for m in error.initial_metadata()]
    assert ("trailing-bin", b"\x01\x02") in [tuple(m) for m in error.trailing_metadata()]


def test_send_initial_metadata_twice_is_refused(pair):
    s = pair.server_mod
    outcome = []

    def handler(request, context):
        context.send_initial_metadata((("a", "1"),))
        try:
            context.send_initial_metadata((("b", "2"),))
        except ValueError:
            outcome.append("ValueError")
        return b""

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    pair.channel(port).unary_unary("/test.Svc/M")(b"")
    assert outcome == ["ValueError"]


def test_initial_metadata_reaches_the_client_before_any_message(pair):
    s = pair.server_mod
    release = threading.Event()

    def handler(request, context):
        context.send_initial_metadata((("early", "bird"),))
        release.wait(30)
        yield b"late"

    _, port = pair.serve({"M": s.unary_stream_rpc_method_handler(handler)})
    responses = pair.channel(port).unary_stream("/test.Svc/M")(b"")
    try:
        assert ("early", "bird") in [tuple(m) for m in responses.initial_metadata()]
    finally:
        release.set()
    assert list(responses) == [b"late"]


def test_time_remaining_and_peer(pair):
    s = pair.server_mod
    seen = {}

    def handler(request, context):
        seen[request] = (context.time_remaining(), context.peer(), context.is_active())
        return b""

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    call = pair.channel(port).unary_unary("/test.Svc/M")
    call(b"deadline", timeout=100)
    call(b"none")
    remaining, peer, active = seen[b"deadline"]
    # grpcio's client rounds the grpc-timeout it sends up (to a value that
    # compresses well), so a server may see a little more than was asked.
    assert 0 < remaining <= 101
    assert active
    assert peer.startswith(("ipv4:", "ipv6:"))
    assert int(peer.rsplit(":", 1)[1]) > 0
    if pair.server_name == "gust":
        assert seen[b"none"][0] is None  # grpcio answers with a huge number


def test_add_callback_runs_when_the_call_ends(pair):
    s = pair.server_mod
    ended = threading.Event()
    added = []

    def handler(request, context):
        added.append(context.add_callback(ended.set))
        return b"done"

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    assert pair.channel(port).unary_unary("/test.Svc/M")(b"") == b"done"
    assert ended.wait(30)
    assert added == [True]


def test_client_cancellation_is_seen_by_the_handler(pair):
    s = pair.server_mod
    ended = threading.Event()

    def handler(request, context):
        context.add_callback(ended.set)
        count = 0
        while context.is_active():
            count += 1
            yield b"%d" % count

    _, port = pair.serve({"M": s.unary_stream_rpc_method_handler(handler)})
    responses = pair.channel(port).unary_stream("/test.Svc/M")(b"")
    assert [next(responses) for _ in range(3)] == [b"1", b"2", b"3"]
    assert responses.cancel()
    with pytest.raises(pair.client_mod.RpcError) as caught:
        for _ in responses:
            pass
    assert caught.value.code().name == "CANCELLED"
    assert responses.code().name == "CANCELLED"
    assert responses.details() == "Locally cancelled by application!"
    assert not responses.is_active()
    assert ended.wait(30)


def test_server_cancel_reaches_the_client(pair):
    s = pair.server_mod

    def handler(request, context):
        context.cancel()
        return b"never"

    _, port = pair.serve({"M": s.unary_unary_rpc_method_handler(handler)})
    error = rpc_error(pair.client_mod, pair.channel(port).unary_unary("/test.Svc/M"), b"")
    assert error.code().name == "CANCELLED"


def test_request_iterator_raises_when_the_client_cancels(pair):
    s = pair.server_mod
    outcome = []
    started = threading.Event()
    done = threading.Event()

    def handler(request_iterator, context):
        try:
            for _ in request_iterator:
                started.set()
        except Exception as error:  # grpcio raises a bare grpc.RpcError
            outcome.append(isinstance(error, s.RpcError))
        finally:
            done.set()
        return b""

    _, port = pair.serve({"M": s.stream_unary_rpc_method_handler(handler)})
    stop = threading.Event()

    def requests():
        yield b"first"
        stop.wait(30)

    future = pair.channel(port).stream_unary("/test.Svc/M").future(requests())
    assert started.wait(30)
    assert future.cancel()
    assert done.wait(30)
    stop.set()
    assert future.cancelled()
    if pair.server_name == "gust":
        assert outcome == [True]
    else:
        # grpcio's iterator raises, or ends as if the client had half-closed
        # (a race inside grpcio's server, with its own client too).
        assert outcome in ([True], [])
