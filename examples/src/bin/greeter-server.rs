//! The seed's helloworld Greeter server, on port 50051.

use gust::{Request, Server, Status};
use gust_examples::helloworld::{GreeterServer, HelloReply, HelloRequest};

struct Greeter;

impl gust_examples::helloworld::Greeter for Greeter {
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<HelloReply, Status> {
        Ok(HelloReply { message: format!("Hello, {}!", request.get_ref().name) })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    gust_examples::serve(Server::builder().add_service(GreeterServer::new(Greeter)), "[::]:50051").await
}
