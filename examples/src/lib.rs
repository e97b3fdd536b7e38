//! The services of the seed tutorials, generated from their `.proto` files,
//! plus the little each example program shares.

/// `helloworld.Greeter`.
pub mod helloworld {
    include!(concat!(env!("OUT_DIR"), "/helloworld.rs"));
}

/// `my_package`: `DisplacementService` (unary.proto) and `RequestStreaming`
/// (request_streaming.proto).
pub mod my_package {
    include!(concat!(env!("OUT_DIR"), "/my_package.rs"));
}

/// `fibonacci.Fibonacci`: one rpc of each kind.
pub mod fibonacci {
    include!(concat!(env!("OUT_DIR"), "/fibonacci.rs"));
}

pub mod jwt;

/// The value of `--flag VALUE` among the program's arguments, if given.
pub fn flag(name: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|arg| arg != name);
    args.next()?;
    args.next()
}

/// The program's arguments without `--flag VALUE` pairs.
pub fn positional_args() -> Vec<String> {
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg.starts_with("--") {
            args.next();
        } else {
            positional.push(arg);
        }
    }
    positional
}

/// Prints `prompt` and reads one line from standard input, as Python's
/// `input()` does; `None` at the end of input.
pub fn input(prompt: &str) -> Option<String> {
    use std::io::Write as _;
    print!("{prompt}");
    std::io::stdout().flush().ok()?;
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
    }
}

/// Serves `server` on `--addr` (default `default_addr`) until Ctrl-C or
/// SIGTERM, announcing the address.
pub async fn serve(server: gust::server::ServerBuilder, default_addr: &str) -> std::io::Result<()> {
    serve_until(server, default_addr, gust::server::shutdown_signal()).await
}

/// Like [`serve`], with the graceful shutdown starting when `signal` resolves.
pub async fn serve_until(
    server: gust::server::ServerBuilder,
    default_addr: &str,
    signal: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let addr = flag("--addr").unwrap_or_else(|| default_addr.to_owned());
    let server = server.bind(addr.as_str()).await?;
    println!("listening on {}", server.local_addr());
    server.serve_with_shutdown(signal).await
}
