//! The seed's four Fibonacci clients in one program:
//! `fibonacci-client <unary|server-stream|client-stream|bidi|all> [NUMBERS...] [--target URI]`.
//! Without numbers it asks for them on standard input, as the seed's clients do.

use futures_util::stream;
use gust_examples::fibonacci::{FibonacciClient, Number};
use gust_examples::{flag, input, positional_args};
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error>;

/// Where the numbers come from: the command line, or prompts on stdin.
enum Numbers {
    Given(std::vec::IntoIter<i32>),
    Asked(&'static str),
}

impl Numbers {
    /// The next number; `None` when the list ends or the user enters
    /// nothing (or something that is not a number), as in the seed.
    fn next(&mut self) -> Option<i32> {
        match self {
            Numbers::Given(numbers) => numbers.next(),
            Numbers::Asked(prompt) => input(prompt)?.trim().parse().ok(),
        }
    }
}

async fn at_index(client: &FibonacciClient, mut numbers: Numbers) -> Result<(), Error> {
    let value = numbers.next().ok_or("an index integer is needed")?;
    let response = client.at_index(Number { value }).await?;
    println!("Fibonacci #{value}: {}", response.value);
    Ok(())
}

async fn get_sequence(client: &FibonacciClient, mut numbers: Numbers) -> Result<(), Error> {
    let value = numbers.next().ok_or("an index integer is needed")?;
    let mut responses = client.get_sequence(Number { value }).await?;
    let mut index = 0;
    while let Some(response) = responses.message().await? {
        index += 1;
        println!("Fibonacci #{index}: {}", response.value);
    }
    Ok(())
}

async fn sum_indicies(client: &FibonacciClient, mut numbers: Numbers) -> Result<(), Error> {
    let mut indices = Vec::new();
    while let Some(index) = numbers.next() {
        indices.push(Number { value: index });
    }
    if matches!(numbers, Numbers::Asked(_)) {
        println!("done sending");
    }
    let response = client.sum_indicies(stream::iter(indices)).await?;
    println!("Sum: {}", response.value);
    Ok(())
}

/// Sends one increment at a time and prints the numbers it brings before
/// sending (or asking for) the next, like the seed's interactive client.
async fn stream_sequence(client: &FibonacciClient, mut numbers: Numbers) -> Result<(), Error> {
    let (sender, receiver) = mpsc::channel::<Number>(1);
    let requests =
        stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|number| (number, receiver)) });
    let mut responses = client.stream_sequence(requests).await?;
    let mut index = 0;
    while let Some(increment) = numbers.next() {
        sender.send(Number { value: increment }).await?;
        for _ in 0..increment.max(0) {
            let response = responses.message().await?.ok_or("the server ended the stream early")?;
            index += 1;
            println!("Fibonacci #{index}: {}", response.value);
        }
    }
    if matches!(numbers, Numbers::Asked(_)) {
        println!("done sending");
    }
    drop(sender);
    while let Some(response) = responses.message().await? {
        index += 1;
        println!("Fibonacci #{index}: {}", response.value);
    }
    Ok(())
}

fn numbers(given: &[String], prompt: &'static str) -> Result<Numbers, Error> {
    if given.is_empty() {
        return Ok(Numbers::Asked(prompt));
    }
    let parsed: Result<Vec<i32>, _> = given.iter().map(|n| n.parse::<i32>()).collect();
    Ok(Numbers::Given(parsed?.into_iter()))
}

const USAGE: &str = "usage: fibonacci-client <unary|server-stream|client-stream|bidi|all> [NUMBERS...] [--target URI]";
const INDEX: &str = "enter an index integer: ";
const INDICES: &str = "enter an index (or nothing to stop): ";
const INCREMENTS: &str = "enter the next increment (or nothing to stop): ";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = positional_args();
    let (kind, given) = args.split_first().ok_or(USAGE)?;
    let target = flag("--target").unwrap_or_else(|| "http://localhost:1337".to_owned());
    let client = FibonacciClient::new(gust::Channel::from_uri(&target)?);
    match kind.as_str() {
        "unary" => at_index(&client, numbers(given, INDEX)?).await,
        "server-stream" => get_sequence(&client, numbers(given, INDEX)?).await,
        "client-stream" => sum_indicies(&client, numbers(given, INDICES)?).await,
        "bidi" => stream_sequence(&client, numbers(given, INCREMENTS)?).await,
        "all" => {
            let given = |numbers: Vec<i32>| Numbers::Given(numbers.into_iter());
            println!("== AtIndex (unary), index 7");
            at_index(&client, given(vec![7])).await?;
            println!("== GetSequence (server streaming), 7 numbers");
            get_sequence(&client, given(vec![7])).await?;
            println!("== SumIndicies (client streaming), indices 7 and 5");
            sum_indicies(&client, given(vec![7, 5])).await?;
            println!("== StreamSequence (bidirectional streaming), increments 4, 2, 1");
            stream_sequence(&client, given(vec![4, 2, 1])).await
        }
        _ => Err(USAGE.into()),
    }
}
