//! The seed's DisplacementService server, on port 50051.

use gust::{Request, Server, Status};
use gust_examples::my_package::{Displacement, DisplacementResponse, DisplacementServiceServer};

struct DisplacementService;

impl gust_examples::my_package::DisplacementService for DisplacementService {
    async fn compute_displacement(&self, request: Request<Displacement>) -> Result<DisplacementResponse, Status> {
        let request = request.into_inner();
        let (start, end) = (request.start.unwrap_or_default(), request.end.unwrap_or_default());
        let dx = f64::from(end.x - start.x).powi(2);
        let dy = f64::from(end.y - start.y).powi(2);
        Ok(DisplacementResponse { distance: (dx + dy).sqrt() as f32 })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let service = DisplacementServiceServer::new(DisplacementService);
    gust_examples::serve(Server::builder().add_service(service), "[::]:50051").await
}
