//! `bench.Echo` served by gust: `bench-gust-server [--addr 127.0.0.1:50051] [--workers 2]`.

use clap::Parser;
use gust::{Request, ResponseSink, Server, Status};
use gust_benches::gust_pb::{EchoServer, Payload, StreamRequest};

/// The Echo service on gust.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

/// The handler: the same logic as the tonic server's.
struct Echo;

impl gust_benches::gust_pb::Echo for Echo {
    async fn unary(&self, request: Request<Payload>) -> Result<Payload, Status> {
        Ok(request.into_inner())
    }

    async fn server_stream(
        &self,
        request: Request<StreamRequest>,
        mut responses: ResponseSink<Payload>,
    ) -> Result<(), Status> {
        let StreamRequest { count, size } = request.into_inner();
        let payload = Payload { data: vec![gust_benches::FILL; size as usize].into() };
        responses.send_all((0..count).map(|_| payload.clone())).await
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    gust_benches::runtime(args.workers)?.block_on(async {
        let server = Server::builder().add_service(EchoServer::new(Echo)).bind(args.addr.as_str()).await?;
        gust_benches::announce("gust", server.local_addr(), args.workers);
        server.serve_with_shutdown(gust_benches::shutdown_signal()).await
    })
}
