//! The seed's helloworld client: `greeter-client [NAME] [--target URI]`.

use gust_examples::helloworld::{GreeterClient, HelloRequest};
use gust_examples::{flag, positional_args};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = flag("--target").unwrap_or_else(|| "http://localhost:50051".to_owned());
    let name = positional_args().into_iter().next().unwrap_or_else(|| "you".to_owned());
    let client = GreeterClient::connect(&target).await?;
    let response = client.say_hello(HelloRequest { name }).await?;
    println!("Greeter client received: {}", response.message);
    Ok(())
}
