//! The two binaries as a test runner uses them: the server prints its port
//! and stops on SIGTERM; the client takes the standard flags in both
//! `--flag=value` and `--flag value` forms and reports by exit code.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_interop-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_interop-client");

/// A running `interop-server`, killed if the test fails before stopping it.
struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    fn start() -> ServerProcess {
        let mut child = Command::new(SERVER)
            .args(["--port", "0", "--use_tls=false"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn interop-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the server's first line");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        assert_ne!(port, 0, "the server printed port 0, not the one it got");
        ServerProcess { child, port }
    }

    fn client(&self, args: &[&str]) -> Output {
        let port = self.port.to_string();
        Command::new(CLIENT)
            .args(["--server_host=127.0.0.1", "--server_port", &port])
            .args(args)
            .output()
            .expect("run interop-client")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_client_passes_against_the_server_and_reports_by_exit_code() {
    let server = ServerProcess::start();
    for args in [
        &["--test_case=large_unary"][..],
        &["--test_case", "ping_pong", "--use_tls", "false"],
        &["--test_case=rpc_soak", "--soak_iterations=3", "--soak_max_failures", "0"],
        &["--test_case=channel_soak", "--soak_iterations", "3"],
    ] {
        let output = server.client(args);
        assert!(output.status.success(), "{args:?}: {}{}", text(&output.stdout), text(&output.stderr));
        assert!(text(&output.stdout).contains("passed"), "{args:?}: {}", text(&output.stdout));
    }

    let output = server.client(&["--test_case=no_such_case"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("unknown test case \"no_such_case\""), "{}", text(&output.stderr));
}

#[test]
fn a_failing_case_exits_1_and_names_the_case() {
    // Nothing listens on a port just freed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    drop(listener);
    let output = Command::new(CLIENT)
        .args(["--server_host", "127.0.0.1", "--server_port", &port, "--test_case", "empty_unary"])
        .output()
        .expect("run interop-client");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("test case empty_unary FAILED"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn the_server_exits_on_sigterm() {
    let mut server = ServerProcess::start();
    let killed = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("run kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "server exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "the server still runs 20 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
