//! The Greeter behind JWT authentication: every call needs
//! `authorization: Bearer <jwt>`, HS256-signed with the secret in
//! `GREETER_JWT_SECRET`, with role "greeter"; the reply names the token's
//! subject. Run it with `jwt-greeter-client`.

use gust::{Request, Server, Status};
use gust_examples::helloworld::{GreeterServer, HelloReply, HelloRequest};
use gust_examples::jwt::{Claims, JwtAuth};

struct Greeter;

impl gust_examples::helloworld::Greeter for Greeter {
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<HelloReply, Status> {
        // The interceptor let the call through, so the claims are there.
        let claims = request.extensions().get::<Claims>().ok_or_else(|| Status::internal("no claims"))?;
        Ok(HelloReply { message: format!("Hello, {}! (token of {})", request.get_ref().name, claims.sub) })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("GREETER_JWT_SECRET").unwrap_or_else(|_| "change me".to_owned());
    let auth = JwtAuth::hs256(secret.as_bytes()).require_role("greeter");
    let server = Server::builder().intercept(auth).add_service(GreeterServer::new(Greeter));
    gust_examples::serve(server, "127.0.0.1:50051").await
}
