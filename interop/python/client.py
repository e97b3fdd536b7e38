#!/usr/bin/env python3
"""grpcio interop client: runs one standard gRPC interop test case.

Usage:
  python interop/python/client.py --server_host H --server_port P --test_case NAME
                                  [--soak_iterations N]

Exit status: 0 the case passed; 1 it failed (the reason is printed on
stderr); 77 the case cannot be expressed with grpcio (``n/a: <why>`` is
printed on stdout). A pass that could only check part of what the case asks
for prints ``partial: <what was not checked>`` on stdout and exits 0.

The cases follow doc/interop-test-descriptions.md of the gRPC project.
"""

import argparse
import os
import queue
import sys
import traceback

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_stubs  # noqa: E402

empty_pb2, messages_pb2, test_pb2_grpc, _test_pb2 = interop_stubs.load()

EXIT_NA = 77
# Upper bound for any single RPC, so that a hang is reported as a failure of
# this case and not as the harness's timeout.
RPC_TIMEOUT = 20.0

ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")


class TestFailure(Exception):
    pass


class NotApplicable(Exception):
    pass


class Partial(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def expect_rpc_error(fn, code, details=None, what="call"):
    """Run fn(), which must raise grpc.RpcError with the given code (and details)."""
    try:
        fn()
    except grpc.RpcError as err:
        check(err.code() == code,
              f"{what}: expected status {code.name}, got {err.code().name}: {err.details()!r}")
        if details is not None:
            check(err.details() == details,
                  f"{what}: expected status message {details!r}, got {err.details()!r}")
        return err
    raise TestFailure(f"{what}: expected status {code.name}, but the call succeeded")


def payload(size):
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


def check_payload(p, size, what):
    check(len(p.body) == size, f"{what}: payload body is {len(p.body)} bytes, expected {size}")
    check(p.body == bytes(size), f"{what}: payload body is not all zeros")


class RequestQueue:
    """A request iterator the test feeds one message at a time; close() half-closes."""

    _END = object()

    def __init__(self):
        self._q = queue.Queue()

    def put(self, message):
        self._q.put(message)

    def close(self):
        self._q.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._q.get()
        if item is self._END:
            raise StopIteration
        return item


def large_unary_request(**kw):
    return messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE, response_size=314159, payload=payload(271828), **kw)


# --------------------------------------------------------------------------- cases


def empty_unary(stub, args):
    response = stub.EmptyCall(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    check(isinstance(response, empty_pb2.Empty), f"response is not Empty: {response!r}")


def large_unary(stub, args):
    response = stub.UnaryCall(large_unary_request(), timeout=RPC_TIMEOUT)
    check_payload(response.payload, 314159, "UnaryCall response")


def client_streaming(stub, args):
    sizes = (27182, 8, 1828, 45904)
    requests = (messages_pb2.StreamingInputCallRequest(payload=payload(s)) for s in sizes)
    response = stub.StreamingInputCall(requests, timeout=RPC_TIMEOUT)
    check(response.aggregated_payload_size == 74922,
          f"aggregated_payload_size is {response.aggregated_payload_size}, expected 74922")


def server_streaming(stub, args):
    sizes = (31415, 9, 2653, 58979)
    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=s) for s in sizes])
    responses = list(stub.StreamingOutputCall(request, timeout=RPC_TIMEOUT))
    check(len(responses) == len(sizes), f"got {len(responses)} responses, expected {len(sizes)}")
    for i, (r, s) in enumerate(zip(responses, sizes)):
        check_payload(r.payload, s, f"response {i}")


def ping_pong(stub, args):
    pairs = ((31415, 27182), (9, 8), (2653, 1828), (58979, 45904))
    requests = RequestQueue()
    call = stub.FullDuplexCall(requests, timeout=RPC_TIMEOUT)
    try:
        for i, (response_size, payload_size) in enumerate(pairs):
            requests.put(messages_pb2.StreamingOutputCallRequest(
                response_type=messages_pb2.COMPRESSABLE,
                response_parameters=[messages_pb2.ResponseParameters(size=response_size)],
                payload=payload(payload_size)))
            response = next(call, None)
            check(response is not None, f"stream ended after {i} responses, expected 4")
            check_payload(response.payload, response_size, f"response {i}")
        requests.close()
        extra = next(call, None)
        check(extra is None, "got a fifth response, expected exactly 4")
        check(call.code() == grpc.StatusCode.OK, f"call ended with {call.code()}")
    finally:
        requests.close()


def empty_stream(stub, args):
    call = stub.FullDuplexCall(iter(()), timeout=RPC_TIMEOUT)
    responses = list(call)
    check(responses == [], f"got {len(responses)} responses, expected none")
    check(call.code() == grpc.StatusCode.OK, f"call ended with {call.code()}")


def _check_echoed_metadata(initial, trailing, what):
    initial = [(m.key, m.value) for m in initial or ()]
    trailing = [(m.key, m.value) for m in trailing or ()]
    check(ECHO_INITIAL in initial,
          f"{what}: initial metadata lacks {ECHO_INITIAL!r}; got {initial!r}")
    check(ECHO_TRAILING in trailing,
          f"{what}: trailing metadata lacks {ECHO_TRAILING!r}; got {trailing!r}")


def custom_metadata(stub, args):
    metadata = (ECHO_INITIAL, ECHO_TRAILING)
    response, call = stub.UnaryCall.with_call(large_unary_request(), metadata=metadata, timeout=RPC_TIMEOUT)
    check_payload(response.payload, 314159, "UnaryCall response")
    _check_echoed_metadata(call.initial_metadata(), call.trailing_metadata(), "UnaryCall")

    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=314159)],
        payload=payload(271828))
    call = stub.FullDuplexCall(iter([request]), metadata=metadata, timeout=RPC_TIMEOUT)
    responses = list(call)
    check(len(responses) == 1, f"FullDuplexCall: got {len(responses)} responses, expected 1")
    check_payload(responses[0].payload, 314159, "FullDuplexCall response")
    _check_echoed_metadata(call.initial_metadata(), call.trailing_metadata(), "FullDuplexCall")


def _echo_status_cases(stub, message, duplex):
    status = messages_pb2.EchoStatus(code=2, message=message)
    expect_rpc_error(lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status),
                                            timeout=RPC_TIMEOUT),
                     grpc.StatusCode.UNKNOWN, message, "UnaryCall")
    if duplex:
        request = messages_pb2.StreamingOutputCallRequest(response_status=status)
        expect_rpc_error(lambda: list(stub.FullDuplexCall(iter([request]), timeout=RPC_TIMEOUT)),
                         grpc.StatusCode.UNKNOWN, message, "FullDuplexCall")


def status_code_and_message(stub, args):
    _echo_status_cases(stub, "test status message", duplex=True)


def special_status_message(stub, args):
    _echo_status_cases(stub, "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n",
                       duplex=False)


def _call_empty(channel, path):
    method = channel.unary_unary(path, request_serializer=empty_pb2.Empty.SerializeToString,
                                 response_deserializer=empty_pb2.Empty.FromString)
    return method(empty_pb2.Empty(), timeout=RPC_TIMEOUT)


def unimplemented_method(stub, args):
    expect_rpc_error(lambda: _call_empty(args.channel, "/grpc.testing.TestService/UnimplementedCall"),
                     grpc.StatusCode.UNIMPLEMENTED, what="TestService/UnimplementedCall")


def unimplemented_service(stub, args):
    expect_rpc_error(lambda: _call_empty(args.channel, "/grpc.testing.UnimplementedService/UnimplementedCall"),
                     grpc.StatusCode.UNIMPLEMENTED, what="UnimplementedService/UnimplementedCall")


def cancel_after_begin(stub, args):
    requests = RequestQueue()
    future = stub.StreamingInputCall.future(requests, timeout=RPC_TIMEOUT)
    try:
        future.cancel()
        check(future.cancelled(), "the call was not cancelled")
        check(future.code() == grpc.StatusCode.CANCELLED, f"call ended with {future.code()}, expected CANCELLED")
    finally:
        requests.close()


def cancel_after_first_response(stub, args):
    requests = RequestQueue()
    call = stub.FullDuplexCall(requests, timeout=RPC_TIMEOUT)
    try:
        requests.put(messages_pb2.StreamingOutputCallRequest(
            response_type=messages_pb2.COMPRESSABLE,
            response_parameters=[messages_pb2.ResponseParameters(size=31415)],
            payload=payload(27182)))
        response = next(call)
        check_payload(response.payload, 31415, "first response")
        call.cancel()
        expect_rpc_error(lambda: next(call), grpc.StatusCode.CANCELLED, what="FullDuplexCall after cancel")
        check(call.code() == grpc.StatusCode.CANCELLED, f"call ended with {call.code()}, expected CANCELLED")
    finally:
        requests.close()


def timeout_on_sleeping_server(stub, args):
    requests = RequestQueue()
    call = stub.FullDuplexCall(requests, timeout=0.001)
    try:
        requests.put(messages_pb2.StreamingOutputCallRequest(payload=payload(27182)))
        expect_rpc_error(lambda: list(call), grpc.StatusCode.DEADLINE_EXCEEDED, what="FullDuplexCall")
    finally:
        requests.close()


def client_compressed_unary(stub, args):
    # 1. Feature probe: an uncompressed request that says it is compressed.
    expect_rpc_error(
        lambda: stub.UnaryCall(large_unary_request(expect_compressed=messages_pb2.BoolValue(value=True)),
                               compression=grpc.Compression.NoCompression, timeout=RPC_TIMEOUT),
        grpc.StatusCode.INVALID_ARGUMENT, what="probe (uncompressed request, expect_compressed=true)")
    # 2. Compressed request.
    response = stub.UnaryCall(large_unary_request(expect_compressed=messages_pb2.BoolValue(value=True)),
                              compression=grpc.Compression.Gzip, timeout=RPC_TIMEOUT)
    check_payload(response.payload, 314159, "compressed call response")
    # 3. Uncompressed request.
    response = stub.UnaryCall(large_unary_request(expect_compressed=messages_pb2.BoolValue(value=False)),
                              compression=grpc.Compression.NoCompression, timeout=RPC_TIMEOUT)
    check_payload(response.payload, 314159, "uncompressed call response")


def client_compressed_streaming(stub, args):
    raise NotApplicable("grpcio cannot compress one message of a client stream and not the next "
                        "(its client API has no per-message write flags)")


FLAG_NOT_SEEN = ("grpcio cannot observe whether a response was compressed (it hides the per-message "
                 "flag and the grpc-encoding header): checked only that the responses arrive intact, "
                 "not that the server compressed them")


def server_compressed_unary(stub, args):
    for compressed in (True, False):
        request = large_unary_request(response_compressed=messages_pb2.BoolValue(value=compressed))
        response = stub.UnaryCall(request, timeout=RPC_TIMEOUT)
        check_payload(response.payload, 314159, f"response (response_compressed={compressed})")
    raise Partial(FLAG_NOT_SEEN)


def server_compressed_streaming(stub, args):
    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[
            messages_pb2.ResponseParameters(size=31415, compressed=messages_pb2.BoolValue(value=True)),
            messages_pb2.ResponseParameters(size=92653, compressed=messages_pb2.BoolValue(value=False)),
        ])
    responses = list(stub.StreamingOutputCall(request, timeout=RPC_TIMEOUT))
    check(len(responses) == 2, f"got {len(responses)} responses, expected 2")
    check_payload(responses[0].payload, 31415, "response 0")
    check_payload(responses[1].payload, 92653, "response 1")
    raise Partial(FLAG_NOT_SEEN)


def _soak(args, fresh_channel):
    failures = []
    for i in range(args.soak_iterations):
        if fresh_channel:
            with open_channel(args) as channel:
                stub = test_pb2_grpc.TestServiceStub(channel)
                _soak_one(stub, i, failures)
        else:
            _soak_one(args.stub, i, failures)
    check(len(failures) <= args.soak_max_failures,
          f"{len(failures)} of {args.soak_iterations} iterations failed "
          f"(at most {args.soak_max_failures} allowed): " + "; ".join(failures[:5]))


def _soak_one(stub, i, failures):
    try:
        large_unary(stub, None)
    except (grpc.RpcError, TestFailure) as err:
        failures.append(f"iteration {i}: {_describe(err)}")


def rpc_soak(stub, args):
    _soak(args, fresh_channel=False)


def channel_soak(stub, args):
    _soak(args, fresh_channel=True)


CASES = {f.__name__: f for f in (
    empty_unary, large_unary, client_streaming, server_streaming, ping_pong, empty_stream,
    custom_metadata, status_code_and_message, special_status_message, unimplemented_method,
    unimplemented_service, cancel_after_begin, cancel_after_first_response,
    timeout_on_sleeping_server, client_compressed_unary, server_compressed_unary,
    client_compressed_streaming, server_compressed_streaming, rpc_soak, channel_soak,
)}


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def open_channel(args):
    """A channel to the server as the flags say: plaintext, or TLS."""
    if not args.use_tls:
        return grpc.insecure_channel(args.target, options=args.channel_options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(args.ca_file) if args.ca_file else None,
        private_key=_read(args.client_key_file) if args.client_key_file else None,
        certificate_chain=_read(args.client_cert_file) if args.client_cert_file else None)
    return grpc.secure_channel(args.target, credentials, options=args.channel_options)


def _describe(err):
    if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
        return f"RPC failed with {err.code().name}: {err.details()!r}"
    return str(err)


def main():
    parser = argparse.ArgumentParser(description="grpcio interop client")
    parser.add_argument("--server_host", default="127.0.0.1")
    parser.add_argument("--server_host_override", default=None)
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--test_case", required=True, help="one of: " + ", ".join(CASES))
    parser.add_argument("--use_tls", default="false", help="true: TLS, trusting --ca_file")
    parser.add_argument("--ca_file", default=None, help="PEM CA to trust (TLS; default: grpcio's roots)")
    parser.add_argument("--client_cert_file", default=None, help="PEM certificate chain to present (mutual TLS)")
    parser.add_argument("--client_key_file", default=None, help="PEM private key of --client_cert_file")
    parser.add_argument("--soak_iterations", type=int, default=10)
    parser.add_argument("--soak_max_failures", type=int, default=0)
    args = parser.parse_args()
    args.use_tls = args.use_tls.lower() in ("true", "1", "yes")
    if bool(args.client_cert_file) != bool(args.client_key_file):
        parser.error("--client_cert_file and --client_key_file go together")
    case = CASES.get(args.test_case)
    if case is None:
        parser.error(f"unknown --test_case {args.test_case!r}; known: {', '.join(CASES)}")

    args.target = f"{args.server_host}:{args.server_port}"
    args.channel_options = []
    if args.server_host_override:
        # With TLS the override names the certificate too, as in grpc's interop client.
        key = "grpc.ssl_target_name_override" if args.use_tls else "grpc.default_authority"
        args.channel_options.append((key, args.server_host_override))
    name = args.test_case
    try:
        with open_channel(args) as channel:
            args.channel = channel
            args.stub = test_pb2_grpc.TestServiceStub(channel)
            case(args.stub, args)
    except NotApplicable as why:
        print(f"n/a: {why}", flush=True)
        sys.exit(EXIT_NA)
    except Partial as what:
        print(f"partial: {what}", flush=True)
        print(f"PASS {name} (partial)", flush=True)
        sys.exit(0)
    except (TestFailure, grpc.RpcError) as err:
        print(f"FAIL {name}: {_describe(err)}", file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception:  # a bug here, or an unexpected error from grpcio
        traceback.print_exc()
        print(f"FAIL {name}: unexpected exception (traceback above)", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"PASS {name}", flush=True)


if __name__ == "__main__":
    main()
