"""Makes one SayHello call with grpcio and checks the answer: a benchmark of
a server that fails every call would measure nothing."""

import sys

import grpc
import helloworld_pb2
import helloworld_pb2_grpc

with grpc.insecure_channel("127.0.0.1:%s" % sys.argv[1]) as channel:
    reply = helloworld_pb2_grpc.GreeterStub(channel).SayHello(helloworld_pb2.HelloRequest(name="world"), timeout=10)
assert reply.message == "Hello, world!", reply.message
