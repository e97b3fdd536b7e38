"""gust's health service (grpc.health.v1.Health) called by grpcio's own health
client, grpcio-health-checking's stub: statuses, NOT_FOUND, and Watch streams
that stay open and get each change pushed."""

from __future__ import annotations

import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

#: Bounds every call, so that a hang fails the test instead of stalling it.
TIMEOUT_S = 30

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


def request(service: str) -> health_pb2.HealthCheckRequest:
    return health_pb2.HealthCheckRequest(service=service)


def test_check_answers_the_server_and_its_services(greeter):
    stub = health_pb2_grpc.HealthStub(greeter.channel)
    assert stub.Check(request(""), timeout=TIMEOUT_S).status == SERVING
    assert stub.Check(request("helloworld.Greeter"), timeout=TIMEOUT_S).status == SERVING


def test_check_of_an_unknown_service_is_not_found(greeter):
    stub = health_pb2_grpc.HealthStub(greeter.channel)
    with pytest.raises(grpc.RpcError) as error:
        stub.Check(request("no.Such"), timeout=TIMEOUT_S)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_list_gives_every_status(greeter):
    stub = health_pb2_grpc.HealthStub(greeter.channel)
    statuses = stub.List(health_pb2.HealthListRequest(), timeout=TIMEOUT_S).statuses
    assert {name: response.status for name, response in statuses.items()} == {
        "": SERVING, "helloworld.Greeter": SERVING}


def test_watch_of_an_unknown_service_sends_service_unknown_and_stays_open(greeter):
    stub = health_pb2_grpc.HealthStub(greeter.channel)
    updates = stub.Watch(request("no.Such"), timeout=TIMEOUT_S)
    assert next(updates).status == SERVICE_UNKNOWN
    # A call on the same connection completes while the watch is still open.
    assert stub.Check(request(""), timeout=TIMEOUT_S).status == SERVING
    assert updates.is_active()
    updates.cancel()
    with pytest.raises(grpc.RpcError) as error:
        next(updates)
    assert error.value.code() == grpc.StatusCode.CANCELLED


def test_watch_gets_the_change_the_server_makes_when_it_stops(start_greeter):
    # The example server reports NOT_SERVING on SIGTERM, before it drains.
    greeter = start_greeter()
    stub = health_pb2_grpc.HealthStub(greeter.channel)
    server_updates = stub.Watch(request(""), timeout=TIMEOUT_S)
    greeter_updates = stub.Watch(request("helloworld.Greeter"), timeout=TIMEOUT_S)
    assert next(server_updates).status == SERVING
    assert next(greeter_updates).status == SERVING
    greeter.server.proc.send_signal(signal.SIGTERM)
    assert next(greeter_updates).status == NOT_SERVING
    assert next(server_updates).status == NOT_SERVING
    server_updates.cancel()
    greeter_updates.cancel()
    # With no call left in flight, the server finishes its graceful shutdown.
    assert greeter.server.proc.wait(timeout=TIMEOUT_S) == 0
