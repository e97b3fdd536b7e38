//! The health status of each service name, shared by the application (which
//! sets them) and the health service (which reads and watches them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use super::v1::health_check_response::ServingStatus;

/// Sets the health statuses a server reports; cheap to clone, clones share
/// the statuses. Made by [`super::service`].
#[derive(Clone, Debug)]
pub struct HealthReporter {
    statuses: Statuses,
}

impl HealthReporter {
    pub(super) fn new() -> HealthReporter {
        let reporter = HealthReporter { statuses: Statuses::default() };
        reporter.set_serving("");
        reporter
    }

    pub(super) fn statuses(&self) -> &Statuses {
        &self.statuses
    }

    /// Marks `service` (`""`: the whole server) as able to take calls.
    pub fn set_serving(&self, service: &str) {
        self.set_service_status(service, ServingStatus::Serving);
    }

    /// Marks `service` (`""`: the whole server) as unable to take calls,
    /// e.g. while it drains before a shutdown.
    pub fn set_not_serving(&self, service: &str) {
        self.set_service_status(service, ServingStatus::NotServing);
    }

    /// Sets the status of `service`; watchers get it right away.
    /// `SERVICE_UNKNOWN` forgets the service, like
    /// [`clear_service_status`](Self::clear_service_status).
    pub fn set_service_status(&self, service: &str, status: ServingStatus) {
        let mut map = self.statuses.lock();
        match map.get(service) {
            Some(sender) => {
                sender.send_if_modified(|current| std::mem::replace(current, status) != status);
            }
            None if status != ServingStatus::ServiceUnknown => {
                map.insert(service.to_owned(), watch::Sender::new(status));
            }
            None => {}
        }
        Statuses::forget_if_unwatched(&mut map, service);
    }

    /// Forgets `service`: Check answers NOT_FOUND for it again, and its
    /// watchers get SERVICE_UNKNOWN.
    pub fn clear_service_status(&self, service: &str) {
        self.set_service_status(service, ServingStatus::ServiceUnknown);
    }
}

/// Each known or watched service name, with a channel holding its status.
///
/// A name that is watched but unknown holds `SERVICE_UNKNOWN`, so that its
/// watchers get the status it is given later. Such an entry is dropped with
/// its last watcher: a client watching made-up names leaves nothing behind.
#[derive(Clone, Debug, Default)]
pub(super) struct Statuses {
    map: Arc<Mutex<HashMap<String, watch::Sender<ServingStatus>>>>,
}

impl Statuses {
    /// The status of `service`, if it is known.
    pub(super) fn get(&self, service: &str) -> Option<ServingStatus> {
        let status = *self.lock().get(service)?.borrow();
        (status != ServingStatus::ServiceUnknown).then_some(status)
    }

    /// Every known service with its status.
    pub(super) fn known(&self) -> Vec<(String, ServingStatus)> {
        let map = self.lock();
        let statuses = map.iter().map(|(service, sender)| (service.clone(), *sender.borrow()));
        statuses.filter(|(_, status)| *status != ServingStatus::ServiceUnknown).collect()
    }

    /// Follows the status of `service`, known or not.
    pub(super) fn subscribe(&self, service: &str) -> Subscription {
        let receiver = self
            .lock()
            .entry(service.to_owned())
            .or_insert_with(|| watch::Sender::new(ServingStatus::ServiceUnknown))
            .subscribe();
        Subscription { receiver, _release: Release { statuses: self.clone(), service: service.to_owned() } }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<ServingStatus>>> {
        // The map is consistent after every statement, so a panic elsewhere
        // while it was locked leaves nothing half-done.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn forget_if_unwatched(map: &mut HashMap<String, watch::Sender<ServingStatus>>, service: &str) {
        let unused = map
            .get(service)
            .is_some_and(|sender| *sender.borrow() == ServingStatus::ServiceUnknown && sender.receiver_count() == 0);
        if unused {
            map.remove(service);
        }
    }
}

/// One watcher of one service's status.
pub(super) struct Subscription {
    receiver: watch::Receiver<ServingStatus>,
    /// Declared after `receiver`, so dropped after it (fields drop in
    /// order): the entry then sees that it has one watcher fewer.
    _release: Release,
}

impl Subscription {
    /// The current status, marked as seen.
    pub(super) fn latest(&mut self) -> ServingStatus {
        *self.receiver.borrow_and_update()
    }

    /// Waits until the status changes.
    pub(super) async fn changed(&mut self) {
        // The map keeps the sender while this receiver exists, so `changed`
        // cannot fail; if it did, there would be no change ever to await.
        if self.receiver.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Forgets a watched name nobody knows once its last watcher is gone.
struct Release {
    statuses: Statuses,
    service: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        Statuses::forget_if_unwatched(&mut self.statuses.lock(), &self.service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_starts_serving_and_other_names_are_unknown() {
        let reporter = HealthReporter::new();
        assert_eq!(reporter.statuses().get(""), Some(ServingStatus::Serving));
        assert_eq!(reporter.statuses().get("helloworld.Greeter"), None);
    }

    #[test]
    fn statuses_can_be_set_changed_and_cleared() {
        let reporter = HealthReporter::new();
        let statuses = reporter.statuses();
        reporter.set_serving("a");
        reporter.set_not_serving("b");
        assert_eq!(statuses.get("a"), Some(ServingStatus::Serving));
        assert_eq!(statuses.get("b"), Some(ServingStatus::NotServing));
        reporter.set_not_serving("a");
        assert_eq!(statuses.get("a"), Some(ServingStatus::NotServing));
        reporter.clear_service_status("a");
        assert_eq!(statuses.get("a"), None);
        let mut known = statuses.known();
        known.sort();
        assert_eq!(known, [("".to_owned(), ServingStatus::Serving), ("b".to_owned(), ServingStatus::NotServing)]);
    }

    #[tokio::test]
    async fn watchers_of_unknown_names_see_them_become_known() {
        let reporter = HealthReporter::new();
        let mut subscription = reporter.statuses().subscribe("later");
        assert_eq!(subscription.latest(), ServingStatus::ServiceUnknown);
        // Watching does not make the name known.
        assert_eq!(reporter.statuses().get("later"), None);
        reporter.set_serving("later");
        subscription.changed().await;
        assert_eq!(subscription.latest(), ServingStatus::Serving);
        reporter.clear_service_status("later");
        subscription.changed().await;
        assert_eq!(subscription.latest(), ServingStatus::ServiceUnknown);
    }

    #[test]
    fn an_unknown_name_is_forgotten_with_its_last_watcher() {
        let reporter = HealthReporter::new();
        let first = reporter.statuses().subscribe("made.Up");
        let second = reporter.statuses().subscribe("made.Up");
        drop(first);
        assert!(reporter.statuses().lock().contains_key("made.Up"));
        drop(second);
        assert!(!reporter.statuses().lock().contains_key("made.Up"));
        // A known name stays when its watchers go.
        reporter.set_serving("kept");
        drop(reporter.statuses().subscribe("kept"));
        assert_eq!(reporter.statuses().get("kept"), Some(ServingStatus::Serving));
    }

    #[test]
    fn setting_the_same_status_again_notifies_nobody() {
        let reporter = HealthReporter::new();
        reporter.set_serving("a");
        let mut subscription = reporter.statuses().subscribe("a");
        subscription.latest();
        reporter.set_serving("a");
        assert!(!subscription.receiver.has_changed().unwrap());
    }
}
