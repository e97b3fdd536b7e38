//! The seed's RequestStreaming server: prints every payload it receives.

use gust::{Request, Server, Status, Streaming};
use gust_examples::my_package::{Data, Empty, RequestStreamingServer};

struct RequestStreaming;

impl gust_examples::my_package::RequestStreaming for RequestStreaming {
    async fn stream_state(&self, requests: Request<Streaming<Data>>) -> Result<Empty, Status> {
        let mut requests = requests.into_inner();
        while let Some(payload) = requests.message().await? {
            println!("payload Recv: status: {} | info: '{}'", payload.status, payload.info);
        }
        Ok(Empty {})
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let service = RequestStreamingServer::new(RequestStreaming);
    gust_examples::serve(Server::builder().add_service(service), "[::]:50051").await
}
