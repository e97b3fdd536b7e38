//! Calls `jwt-greeter-server` with a fresh HS256 token (secret from
//! `GREETER_JWT_SECRET`, role "greeter", valid for five minutes).
//!
//! The server is on localhost over plaintext, so the channel must allow
//! credentials without TLS; against a remote server use `https://` instead.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gust::Channel;
use gust_examples::helloworld::{GreeterClient, HelloRequest};
use gust_examples::jwt::Claims;
use jsonwebtoken::{EncodingKey, Header};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("GREETER_JWT_SECRET").unwrap_or_else(|_| "change me".to_owned());
    let exp = (SystemTime::now() + Duration::from_secs(300)).duration_since(UNIX_EPOCH)?.as_secs();
    let claims = Claims { sub: "example-client".to_owned(), role: "greeter".to_owned(), exp };
    let token = jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes()))?;
    let target = gust_examples::flag("--target").unwrap_or_else(|| "http://127.0.0.1:50051".to_owned());
    let channel = Channel::builder(target).bearer_token(token).allow_insecure_credentials().connect_lazy()?;
    let reply = GreeterClient::new(channel).say_hello(HelloRequest { name: "you".to_owned() }).await?;
    println!("Greeter client received: {}", reply.message);
    Ok(())
}
