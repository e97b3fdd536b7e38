//! The seed's helloworld Greeter server, on port 50051, with the standard
//! health and reflection services beside it.

use gust::{Request, Server, Status};
use gust_examples::helloworld::{self, GreeterServer, HelloReply, HelloRequest};
use gust_services::{health, reflection};

struct Greeter;

impl helloworld::Greeter for Greeter {
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<HelloReply, Status> {
        Ok(HelloReply { message: format!("Hello, {}!", request.get_ref().name) })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (health, reporter) = health::service();
    reporter.set_serving("helloworld.Greeter");
    let reflection = reflection::Builder::new()
        .register_encoded_file_descriptor_set(helloworld::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(health::v1::FILE_DESCRIPTOR_SET);
    let server = Server::builder()
        .add_service(GreeterServer::new(Greeter))
        .add_service(health)
        .add_service(reflection.build_v1()?)
        .add_service(reflection.build_v1alpha()?);
    // On Ctrl-C or SIGTERM, report NOT_SERVING before draining, so that
    // health watchers (load balancers) stop sending calls here first.
    let shutdown = async move {
        gust::server::shutdown_signal().await;
        reporter.set_not_serving("helloworld.Greeter");
        reporter.set_not_serving("");
    };
    gust_examples::serve_until(server, "[::]:50051", shutdown).await?;
    Ok(())
}
