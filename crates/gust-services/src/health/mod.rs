//! gRPC health checking (grpc/grpc doc/health-checking.md): `Check` answers
//! the status of a service now, `Watch` streams it as it changes, `List`
//! gives every status at once.
//!
//! The application owns the statuses: [`service`] returns the service to add
//! to a server and a [`HealthReporter`] to change them while it runs. The
//! whole server (service name `""`) starts SERVING, as in grpc-go; every other
//! name is unknown until set.

mod statuses;

use gust::{Request, ResponseSink, Status};

pub use statuses::HealthReporter;
use statuses::Statuses;
use v1::health_check_response::ServingStatus;
use v1::{HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse};

/// The messages, service trait, server and client of `grpc.health.v1`.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/grpc.health.v1.rs"));
}

/// The most statuses `List` returns; beyond, it fails with
/// RESOURCE_EXHAUSTED (health.proto).
const MAX_LISTED: usize = 100;

/// The health service and the handle that sets its statuses:
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let (health, reporter) = gust_services::health::service();
/// reporter.set_serving("helloworld.Greeter");
/// gust::Server::builder().add_service(health).serve("[::]:50051").await
/// # }
/// ```
pub fn service() -> (v1::HealthServer<HealthService>, HealthReporter) {
    let reporter = HealthReporter::new();
    let service = HealthService { statuses: reporter.statuses().clone() };
    (v1::HealthServer::new(service), reporter)
}

/// The implementation of `grpc.health.v1.Health`, reading the statuses a
/// [`HealthReporter`] sets; made by [`service`].
pub struct HealthService {
    statuses: Statuses,
}

impl v1::Health for HealthService {
    async fn check(&self, request: Request<HealthCheckRequest>) -> Result<HealthCheckResponse, Status> {
        let service = &request.get_ref().service;
        match self.statuses.get(service) {
            Some(status) => Ok(response(status)),
            None => Err(Status::not_found(format!("unknown service {service:?}"))),
        }
    }

    async fn list(&self, _request: Request<HealthListRequest>) -> Result<HealthListResponse, Status> {
        let statuses = self.statuses.known();
        if statuses.len() > MAX_LISTED {
            return Err(Status::resource_exhausted(format!(
                "{} services have a health status, more than the {MAX_LISTED} List may return",
                statuses.len()
            )));
        }
        Ok(HealthListResponse {
            statuses: statuses.into_iter().map(|(service, status)| (service, response(status))).collect(),
        })
    }

    /// Sends the current status, then each change, until the client goes
    /// away. A status that changes and changes back before it was sent is
    /// not sent: watchers see the latest status, not every step.
    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
        mut responses: ResponseSink<HealthCheckResponse>,
    ) -> Result<(), Status> {
        let mut subscription = self.statuses.subscribe(&request.get_ref().service);
        let mut last_sent = None;
        loop {
            let status = subscription.latest();
            if last_sent != Some(status) {
                responses.send(response(status)).await?;
                last_sent = Some(status);
            }
            subscription.changed().await;
        }
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status.into() }
}
