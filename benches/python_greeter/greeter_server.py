"""The seed's Greeter server (helloworld, tutorial 002), for the benchmark.

`--impl grpcio` serves it with grpcio's thread-pool server, `--impl gust` with
gust's: the code is the same, only the module behind the name `grpc` differs.
Prints `listening on PORT` once it serves.
"""

import argparse
import importlib
from concurrent import futures

import helloworld_pb2
import helloworld_pb2_grpc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["grpcio", "gust"], required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=10)
    args = parser.parse_args()

    grpc = importlib.import_module("grpc" if args.impl == "grpcio" else "gust")

    class Greeter(helloworld_pb2_grpc.GreeterServicer):
        def SayHello(self, request, context):
            return helloworld_pb2.HelloReply(message="Hello, %s!" % request.name)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers))
    helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
    port = server.add_insecure_port("127.0.0.1:%d" % args.port)
    server.start()
    print("listening on %d" % port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
