"""gust's Python face over TLS: ``add_secure_port(ssl_server_credentials(...))``
and ``secure_channel(target, ssl_channel_credentials(...))`` as grpcio
programs write them, with gust on one side and grpcio on the other (and gust
on both), mutual TLS included."""

from __future__ import annotations

import contextlib
from concurrent import futures
from pathlib import Path

import grpc
import pytest

import gust

IMPLEMENTATIONS = {"gust": gust, "grpcio": grpc}
#: Every pair with gust on at least one side.
PAIRS = [("gust", "grpcio"), ("grpcio", "gust"), ("gust", "gust")]
TIMEOUT_S = 10


def read(path: str) -> bytes:
    return Path(path).read_bytes()


@contextlib.contextmanager
def serving(mod, credentials):
    """A server of `mod` answering /t.S/Echo with b"echo:" + request, for
    the `with` block; gives its port."""
    server = mod.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = mod.unary_unary_rpc_method_handler(lambda request, context: b"echo:" + request)
    server.add_generic_rpc_handlers((mod.method_handlers_generic_handler("t.S", {"Echo": handler}),))
    port = server.add_secure_port("localhost:0", credentials)
    server.start()
    try:
        yield port
    finally:
        server.stop(None)


def server_credentials(mod, certs, client_ca=False, require_client_auth=False):
    return mod.ssl_server_credentials(
        [(read(certs["server.key"]), read(certs["server.pem"]))],
        root_certificates=read(certs["ca.pem"]) if client_ca else None,
        require_client_auth=require_client_auth)


def call(mod, target, credentials, options=()):
    with mod.secure_channel(target, credentials, options=list(options)) as channel:
        return channel.unary_unary("/t.S/Echo")(b"hi", timeout=TIMEOUT_S)


@pytest.mark.parametrize("server_name,client_name", PAIRS, ids=[f"{s}-server-{c}-client" for s, c in PAIRS])
def test_unary_call_over_tls(certs, server_name, client_name):
    s, c = IMPLEMENTATIONS[server_name], IMPLEMENTATIONS[client_name]
    with serving(s, server_credentials(s, certs)) as port:
        credentials = c.ssl_channel_credentials(root_certificates=read(certs["ca.pem"]))
        assert call(c, f"localhost:{port}", credentials) == b"echo:hi"
        override = [("grpc.ssl_target_name_override", "foo.test")]
        assert call(c, f"127.0.0.1:{port}", credentials, override) == b"echo:hi"


@pytest.mark.parametrize("server_name,client_name", PAIRS, ids=[f"{s}-server-{c}-client" for s, c in PAIRS])
def test_a_server_of_another_ca_is_refused(certs, server_name, client_name):
    s, c = IMPLEMENTATIONS[server_name], IMPLEMENTATIONS[client_name]
    with serving(s, server_credentials(s, certs)) as port:
        credentials = c.ssl_channel_credentials(root_certificates=read(certs["other-ca.pem"]))
        with pytest.raises(c.RpcError) as failure:
            call(c, f"localhost:{port}", credentials)
        assert failure.value.code() == c.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("server_name,client_name", PAIRS, ids=[f"{s}-server-{c}-client" for s, c in PAIRS])
def test_mutual_tls_required(certs, server_name, client_name):
    s, c = IMPLEMENTATIONS[server_name], IMPLEMENTATIONS[client_name]
    with serving(s, server_credentials(s, certs, client_ca=True, require_client_auth=True)) as port:
        anonymous = c.ssl_channel_credentials(root_certificates=read(certs["ca.pem"]))
        with pytest.raises(c.RpcError) as failure:
            call(c, f"localhost:{port}", anonymous)
        assert failure.value.code() == c.StatusCode.UNAVAILABLE
        identified = c.ssl_channel_credentials(root_certificates=read(certs["ca.pem"]),
                                               private_key=read(certs["client.key"]),
                                               certificate_chain=read(certs["client.pem"]))
        assert call(c, f"localhost:{port}", identified) == b"echo:hi"


def test_client_auth_without_roots_is_refused_as_grpcio_refuses_it(certs):
    for mod in (gust, grpc):
        with pytest.raises(ValueError):
            mod.ssl_server_credentials([(read(certs["server.key"]), read(certs["server.pem"]))],
                                       require_client_auth=True)
