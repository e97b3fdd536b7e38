//! The seed's RequestStreaming client: streams five states to the server.

use futures_util::stream;
use gust_examples::flag;
use gust_examples::my_package::{Data, RequestStreamingClient, Status};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = flag("--target").unwrap_or_else(|| "http://localhost:50051".to_owned());
    let data = |status: Status, info: &str| Data { status: status as i32, info: info.to_owned() };
    let messages = vec![
        data(Status::Unknown, "no record...."),
        data(Status::Starved, "Too long without food."),
        data(Status::Thirsty, "Requires watering."),
        data(Status::Tired, "Shutting down for the night."),
        data(Status::Ok, "OK."),
    ];
    let client = RequestStreamingClient::new(gust::Channel::from_uri(&target)?);
    println!("calling server...");
    client.stream_state(stream::iter(messages)).await?;
    println!("done");
    Ok(())
}
