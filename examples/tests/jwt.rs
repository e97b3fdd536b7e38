//! The JWT example's interceptor against real calls: HS256 and RS256 tokens
//! accepted with their claims visible in the handler; expired, badly signed
//! and missing tokens UNAUTHENTICATED; the wrong role PERMISSION_DENIED.
//! RS256 keys are made for each run with the `openssl` command.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use gust::{Channel, Code, Request, Server, Status};
use gust_examples::helloworld::{GreeterClient, GreeterServer, HelloReply, HelloRequest};
use gust_examples::jwt::{Claims, JwtAuth};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

struct Greeter;

impl gust_examples::helloworld::Greeter for Greeter {
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<HelloReply, Status> {
        let claims = request.extensions().get::<Claims>().ok_or_else(|| Status::internal("no claims"))?;
        Ok(HelloReply { message: format!("{}:{}", claims.sub, claims.role) })
    }
}

/// Serves the Greeter behind `auth` on an ephemeral port; returns its URI.
async fn serve(auth: JwtAuth) -> String {
    let server = Server::builder().intercept(auth).add_service(GreeterServer::new(Greeter));
    let server = server.bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", server.local_addr());
    tokio::spawn(server.serve());
    uri
}

fn claims(role: &str, valid_for: i64) -> Claims {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    Claims { sub: "alice".to_owned(), role: role.to_owned(), exp: (now + valid_for) as u64 }
}

fn token(algorithm: Algorithm, key: &EncodingKey, claims: &Claims) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

/// Calls with `token` (none if `None`); the reply or the status.
async fn call(uri: &str, token: Option<String>) -> Result<String, Status> {
    let builder = Channel::builder(uri).allow_insecure_credentials();
    let builder = match token {
        Some(token) => builder.bearer_token(token),
        None => builder,
    };
    let client = GreeterClient::new(builder.connect_lazy().unwrap());
    client.say_hello(HelloRequest { name: "x".to_owned() }).await.map(|reply| reply.into_inner().message)
}

#[tokio::test]
async fn hs256_tokens_are_checked_and_their_claims_reach_the_handler() {
    let secret = b"a test secret";
    let key = EncodingKey::from_secret(secret);
    let uri = serve(JwtAuth::hs256(secret).require_role("greeter")).await;

    let valid = token(Algorithm::HS256, &key, &claims("greeter", 300));
    assert_eq!(call(&uri, Some(valid)).await.unwrap(), "alice:greeter");

    // Past the validation's leeway (60 s).
    let expired = token(Algorithm::HS256, &key, &claims("greeter", -3600));
    let status = call(&uri, Some(expired)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status}");
    assert!(status.message().contains("Expired"), "{status}");

    let forged = token(Algorithm::HS256, &EncodingKey::from_secret(b"another secret"), &claims("greeter", 300));
    assert_eq!(call(&uri, Some(forged)).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(call(&uri, Some("not.a.jwt".to_owned())).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(call(&uri, None).await.unwrap_err().code(), Code::Unauthenticated);

    let guest = token(Algorithm::HS256, &key, &claims("guest", 300));
    let status = call(&uri, Some(guest)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status}");
}

/// A new RSA key pair: (private key PEM, public key PEM).
fn rsa_key_pair() -> (Vec<u8>, Vec<u8>) {
    let private = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .expect("run openssl");
    assert!(private.status.success(), "{}", String::from_utf8_lossy(&private.stderr));
    let mut public = Command::new("openssl")
        .args(["pkey", "-pubout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run openssl");
    public.stdin.take().unwrap().write_all(&private.stdout).unwrap();
    let public = public.wait_with_output().unwrap();
    assert!(public.status.success());
    (private.stdout, public.stdout)
}

#[tokio::test]
async fn rs256_tokens_verify_with_the_issuers_public_key_only() {
    let (private, public) = rsa_key_pair();
    let (other_private, _) = rsa_key_pair();
    let uri = serve(JwtAuth::rs256(&public).unwrap()).await;

    let key = EncodingKey::from_rsa_pem(&private).unwrap();
    assert_eq!(call(&uri, Some(token(Algorithm::RS256, &key, &claims("any", 300)))).await.unwrap(), "alice:any");

    let impostor = EncodingKey::from_rsa_pem(&other_private).unwrap();
    let forged = token(Algorithm::RS256, &impostor, &claims("any", 300));
    assert_eq!(call(&uri, Some(forged)).await.unwrap_err().code(), Code::Unauthenticated);
    // An HS256 token "signed" with the public key must not pass as RS256.
    let confused = token(Algorithm::HS256, &EncodingKey::from_secret(&public), &claims("any", 300));
    assert_eq!(call(&uri, Some(confused)).await.unwrap_err().code(), Code::Unauthenticated);
}

#[test]
fn tokens_are_refused_on_plaintext_channels_unless_allowed() {
    let error = Channel::builder("http://127.0.0.1:1").bearer_token("t").connect_lazy().unwrap_err();
    assert!(error.to_string().contains("TLS"), "{error}");
}
