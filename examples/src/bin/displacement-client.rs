//! The seed's DisplacementService client: from (0, 12) to (12, 14).

use gust_examples::flag;
use gust_examples::my_package::{Displacement, DisplacementServiceClient, Point};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = flag("--target").unwrap_or_else(|| "http://localhost:50051".to_owned());
    let client = DisplacementServiceClient::new(gust::Channel::from_uri(&target)?);
    println!("calling server...");
    let payload = Displacement { start: Some(Point { x: 0, y: 12 }), end: Some(Point { x: 12, y: 14 }) };
    let response = client.compute_displacement(payload).await?;
    println!("distance: {}", response.distance);
    Ok(())
}
