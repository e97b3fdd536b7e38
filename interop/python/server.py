#!/usr/bin/env python3
"""grpcio interop server: the grpc.testing.TestService peer for gust.

Usage: python interop/python/server.py --port N   (0 picks a free port)
       [--use_tls true --tls_cert_file CERT.pem --tls_key_file KEY.pem
        [--tls_client_ca_file CA.pem [--tls_require_client_auth true]]]

Prints ``listening on PORT`` once it serves, then runs until SIGTERM/SIGINT.

Implements the server features of the gRPC interop test descriptions that
grpcio can express: EmptyCall, UnaryCall, StreamingOutputCall,
StreamingInputCall, FullDuplexCall, HalfDuplexCall, Echo Status, Echo Metadata,
CompressedResponse (per call with ``set_compression``, per message with
``disable_next_message_compression``) and ResponseParameters.interval_us.

Not implemented: CompressedRequest (``expect_compressed``). grpcio hands the
handler the decompressed message and hides both the per-message compressed
flag and the ``grpc-encoding`` request header, so this server cannot tell
whether a request was compressed; it ignores ``expect_compressed`` rather than
pretend to check it. scripts/interop.sh marks the client_compressed_* cells
against this server n/a for that reason.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_stubs  # noqa: E402

empty_pb2, messages_pb2, test_pb2_grpc, _test_pb2 = interop_stubs.load()

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

# grpc.StatusCode by its numeric value (EchoStatus.code is an int32).
CODES = {c.value[0]: c for c in grpc.StatusCode}


def echo_metadata(context):
    """Echo Metadata: send the initial key back as initial metadata, the -bin key as trailing."""
    initial, trailing = [], []
    for md in context.invocation_metadata():
        if md.key == ECHO_INITIAL_KEY:
            initial.append((md.key, md.value))
        elif md.key == ECHO_TRAILING_KEY:
            trailing.append((md.key, md.value))
    if initial:
        context.send_initial_metadata(initial)
    if trailing:
        context.set_trailing_metadata(trailing)


def check_payload_type(response_type, context):
    if response_type != messages_pb2.COMPRESSABLE:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported response_type {response_type}")


def maybe_echo_status(request, context):
    """Echo Status: end the call with the requested code and message."""
    if request.HasField("response_status") and request.response_status.code != 0:
        code = CODES.get(request.response_status.code)
        if code is None:
            context.abort(grpc.StatusCode.UNKNOWN, request.response_status.message)
        context.abort(code, request.response_status.message)


def payload(size):
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        echo_metadata(context)
        maybe_echo_status(request, context)
        check_payload_type(request.response_type, context)
        if request.HasField("response_compressed"):
            if request.response_compressed.value:
                context.set_compression(grpc.Compression.Gzip)
            else:
                context.set_compression(grpc.Compression.NoCompression)
        return messages_pb2.SimpleResponse(payload=payload(request.response_size))

    def CacheableUnaryCall(self, request, context):
        echo_metadata(context)
        body = str(time.time_ns()).encode()
        return messages_pb2.SimpleResponse(payload=messages_pb2.Payload(body=body))

    def _stream_responses(self, request, context, compression_set):
        """Yield the responses one StreamingOutputCallRequest asks for."""
        check_payload_type(request.response_type, context)
        for params in request.response_parameters:
            if params.interval_us > 0:
                time.sleep(params.interval_us / 1e6)
            if params.HasField("compressed"):
                if not compression_set[0]:
                    context.set_compression(grpc.Compression.Gzip)
                    compression_set[0] = True
                if not params.compressed.value:
                    context.disable_next_message_compression()
            elif compression_set[0]:
                context.disable_next_message_compression()
            yield messages_pb2.StreamingOutputCallResponse(payload=payload(params.size))

    def StreamingOutputCall(self, request, context):
        echo_metadata(context)
        maybe_echo_status(request, context)
        yield from self._stream_responses(request, context, [False])

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        total = 0
        for request in request_iterator:
            total += len(request.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        compression_set = [False]
        for request in request_iterator:
            maybe_echo_status(request, context)
            yield from self._stream_responses(request, context, compression_set)

    def HalfDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        requests = list(request_iterator)
        compression_set = [False]
        for request in requests:
            maybe_echo_status(request, context)
            yield from self._stream_responses(request, context, compression_set)

    # UnimplementedCall is deliberately left to the generated base class, which
    # answers UNIMPLEMENTED; UnimplementedService is not registered at all.


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--use_tls", default="false", help="true: TLS with --tls_cert_file, --tls_key_file")
    parser.add_argument("--tls_cert_file", default=None, help="PEM certificate chain of the server")
    parser.add_argument("--tls_key_file", default=None, help="PEM private key of the server")
    parser.add_argument("--tls_client_ca_file", default=None, help="PEM CA of client certificates (mutual TLS)")
    parser.add_argument("--tls_require_client_auth", default="false", help="true: refuse clients without one")
    args = parser.parse_args()
    use_tls = args.use_tls.lower() in ("true", "1", "yes")
    if use_tls and not (args.tls_cert_file and args.tls_key_file):
        parser.error("--use_tls=true needs --tls_cert_file and --tls_key_file")

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[("grpc.so_reuseport", 0)],
    )
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
    address = f"{args.host}:{args.port}"
    if use_tls:
        credentials = grpc.ssl_server_credentials(
            [(_read(args.tls_key_file), _read(args.tls_cert_file))],
            root_certificates=_read(args.tls_client_ca_file) if args.tls_client_ca_file else None,
            require_client_auth=args.tls_require_client_auth.lower() in ("true", "1", "yes"))
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        sys.exit(f"could not bind {args.host}:{args.port}")
    server.start()
    print(f"listening on {port}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
