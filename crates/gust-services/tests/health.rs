//! The health service over real TCP, called with gust's generated client:
//! statuses set through the reporter reach Check, List and Watch.

use gust::{Code, Server};
use gust_services::health::{self, v1, HealthReporter};
use v1::health_check_response::ServingStatus;
use v1::{HealthCheckRequest, HealthClient, HealthListRequest};

/// A server with only the health service on 127.0.0.1, any port.
async fn start() -> (HealthClient, HealthReporter) {
    let (service, reporter) = health::service();
    let server = Server::builder().add_service(service).bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", server.local_addr());
    tokio::spawn(server.serve());
    (HealthClient::connect(&uri).await.unwrap(), reporter)
}

fn request(service: &str) -> HealthCheckRequest {
    HealthCheckRequest { service: service.to_owned() }
}

async fn check(client: &HealthClient, service: &str) -> Result<ServingStatus, gust::Status> {
    let response = client.check(request(service)).await?;
    Ok(response.get_ref().status())
}

#[tokio::test]
async fn check_answers_the_status_the_application_set() {
    let (client, reporter) = start().await;
    assert_eq!(check(&client, "").await.unwrap(), ServingStatus::Serving);
    reporter.set_serving("helloworld.Greeter");
    assert_eq!(check(&client, "helloworld.Greeter").await.unwrap(), ServingStatus::Serving);
    reporter.set_not_serving("helloworld.Greeter");
    assert_eq!(check(&client, "helloworld.Greeter").await.unwrap(), ServingStatus::NotServing);
    reporter.set_not_serving("");
    assert_eq!(check(&client, "").await.unwrap(), ServingStatus::NotServing);
}

#[tokio::test]
async fn check_of_an_unknown_service_is_not_found() {
    let (client, reporter) = start().await;
    assert_eq!(check(&client, "no.Such").await.unwrap_err().code(), Code::NotFound);
    reporter.set_serving("was.Known");
    reporter.clear_service_status("was.Known");
    assert_eq!(check(&client, "was.Known").await.unwrap_err().code(), Code::NotFound);
}

#[tokio::test]
async fn list_gives_every_known_status() {
    let (client, reporter) = start().await;
    reporter.set_not_serving("a.A");
    let listed = client.list(HealthListRequest {}).await.unwrap().into_inner().statuses;
    let mut listed: Vec<(String, ServingStatus)> =
        listed.into_iter().map(|(service, response)| (service, response.status())).collect();
    listed.sort();
    assert_eq!(listed, [("".to_owned(), ServingStatus::Serving), ("a.A".to_owned(), ServingStatus::NotServing)]);
}

#[tokio::test]
async fn list_of_more_than_100_services_is_resource_exhausted() {
    let (client, reporter) = start().await;
    // With the server's own "", 100 names make 101 statuses.
    for index in 0..100 {
        reporter.set_serving(&format!("s{index}"));
    }
    let error = client.list(HealthListRequest {}).await.unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn watch_sends_the_status_then_every_change() {
    let (client, reporter) = start().await;
    reporter.set_serving("w.W");
    let mut updates = client.watch(request("w.W")).await.unwrap();
    let mut next = async || updates.message().await.unwrap().unwrap().status();
    assert_eq!(next().await, ServingStatus::Serving);
    reporter.set_not_serving("w.W");
    assert_eq!(next().await, ServingStatus::NotServing);
    reporter.set_serving("w.W");
    assert_eq!(next().await, ServingStatus::Serving);
}

#[tokio::test]
async fn watch_of_an_unknown_service_stays_open_until_it_is_known() {
    let (client, reporter) = start().await;
    let mut updates = client.watch(request("later.L")).await.unwrap();
    let mut next = async || updates.message().await.unwrap().unwrap().status();
    assert_eq!(next().await, ServingStatus::ServiceUnknown);
    reporter.set_serving("later.L");
    assert_eq!(next().await, ServingStatus::Serving);
    reporter.clear_service_status("later.L");
    assert_eq!(next().await, ServingStatus::ServiceUnknown);
}

#[tokio::test]
async fn watchers_of_one_service_are_not_told_of_another() {
    let (client, reporter) = start().await;
    reporter.set_serving("one.O");
    let mut updates = client.watch(request("one.O")).await.unwrap();
    assert_eq!(updates.message().await.unwrap().unwrap().status(), ServingStatus::Serving);
    // Changes elsewhere, then one here: the next message is the one here.
    reporter.set_not_serving("other.O");
    reporter.set_not_serving("");
    reporter.set_not_serving("one.O");
    assert_eq!(updates.message().await.unwrap().unwrap().status(), ServingStatus::NotServing);
}
