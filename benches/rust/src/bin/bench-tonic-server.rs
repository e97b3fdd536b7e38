//! `bench.Echo` served by tonic, the peer gust is compared with:
//! `bench-tonic-server [--addr 127.0.0.1:50052] [--workers 2]`.
//!
//! tonic's defaults are kept (TCP_NODELAY on, hyper's HTTP/2 windows), as a
//! user would get them.

use std::pin::Pin;

use clap::Parser;
use futures_util::Stream;
use gust_benches::tonic_pb::echo_server::{Echo as EchoService, EchoServer};
use gust_benches::tonic_pb::{Payload, StreamRequest};
use tonic::{Request, Response, Status};

/// The Echo service on tonic.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50052")]
    addr: std::net::SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

/// The handler: the same logic as the gust server's.
struct Echo;

#[tonic::async_trait]
impl EchoService for Echo {
    async fn unary(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type ServerStreamStream = Pin<Box<dyn Stream<Item = Result<Payload, Status>> + Send>>;

    /// The messages come from an iterator, the cheapest stream tonic can be
    /// given (no channel, no extra task): the most favourable case for tonic.
    async fn server_stream(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        let StreamRequest { count, size } = request.into_inner();
        let payload = Payload { data: vec![gust_benches::FILL; size as usize] };
        let messages = futures_util::stream::iter((0..count).map(move |_| Ok(payload.clone())));
        Ok(Response::new(Box::pin(messages)))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    gust_benches::runtime(args.workers)?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr).await?;
        gust_benches::announce("tonic", listener.local_addr()?, args.workers);
        let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        tonic::transport::Server::builder()
            .add_service(EchoServer::new(Echo))
            .serve_with_incoming_shutdown(incoming, gust_benches::shutdown_signal())
            .await?;
        Ok(())
    })
}
