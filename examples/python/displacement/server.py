import unary_pb2_grpc  # grpc specific code gets generated into this module.
import unary_pb2  # messages & enums get generated into this module.
import grpc  # `grpcio` PyPi package
import concurrent.futures

class DisplacementService(unary_pb2_grpc.DisplacementServiceServicer):
    """ Implementation of the Displacement Service """
    # Implement unary RPC from the ABC protoc generated.
    def computeDisplacement(self, request, context):
        # compute delta
        dx = (request.end.x - request.start.x) ** 2
        dy = (request.end.y - request.start.y) ** 2
        # return net displacement sqrt(dx**2+dy**2)
        return unary_pb2.DisplacementResponse(distance=(dx + dy) ** 0.5)

if __name__ == '__main__':
    # Grpcio is implemented using threads by default...
    # Create a server object that will house the services
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=10))

    # Instantiate the unary service and use the generated method to register it with the general server
    unary_pb2_grpc.add_DisplacementServiceServicer_to_server(DisplacementService(), server)

    # Add a port for gRPC to serve on, as gRPC is network-based.
    # in this instance, bind to all interfaces on port 50051.
    server.add_insecure_port("[::]:50051")

    # then start the server and wait for it to complete...
    server.start()
    server.wait_for_termination()
