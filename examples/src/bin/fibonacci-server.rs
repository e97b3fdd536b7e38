//! The seed's Fibonacci server: one rpc of each kind, on port 1337.

use gust::{Request, ResponseSink, Server, Status, Streaming};
use gust_examples::fibonacci::{FibonacciServer, Number};

struct Fibonacci;

/// The `index`-th Fibonacci number (0, 1, 1, 2, ...), wrapping like the
/// proto's `int32` would.
fn calculate(index: i32) -> i32 {
    let (mut a, mut b) = (0i32, 1i32);
    for _ in 0..index {
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

impl gust_examples::fibonacci::Fibonacci for Fibonacci {
    async fn at_index(&self, request: Request<Number>) -> Result<Number, Status> {
        Ok(Number { value: calculate(request.get_ref().value) })
    }

    async fn get_sequence(&self, request: Request<Number>, mut responses: ResponseSink<Number>) -> Result<(), Status> {
        for index in 0..request.get_ref().value {
            responses.send(Number { value: calculate(index + 1) }).await?;
        }
        Ok(())
    }

    async fn sum_indicies(&self, requests: Request<Streaming<Number>>) -> Result<Number, Status> {
        let mut requests = requests.into_inner();
        let mut result = 0i32;
        while let Some(request) = requests.message().await? {
            result = result.wrapping_add(calculate(request.value));
        }
        Ok(Number { value: result })
    }

    async fn stream_sequence(
        &self,
        requests: Request<Streaming<Number>>,
        mut responses: ResponseSink<Number>,
    ) -> Result<(), Status> {
        let mut requests = requests.into_inner();
        let mut index = 0;
        while let Some(request) = requests.message().await? {
            for _ in 0..request.value {
                index += 1;
                responses.send(Number { value: calculate(index) }).await?;
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    gust_examples::serve(Server::builder().add_service(FibonacciServer::new(Fibonacci)), "[::]:1337").await
}
