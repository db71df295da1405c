//! Whether the store answers, and getting it back. The store client records the outcome of
//! every call ([`Reachability`]); when one goes unanswered the app is offline: it runs on what
//! this computer holds (the verified catalog cache, downloaded titles and their licences) and
//! tries the store again by itself, sooner when some other call gets an answer first. Back
//! online, the core signs in, registers this computer, refreshes the catalog and checks
//! licences again before it says so.

use std::future::Future;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use marquee_protocol::clock::Clock;
use marquee_protocol::sign::public_key_from_hex;
use marquee_protocol::{Reachability, StoreClient};
use tokio::sync::watch;

use crate::api::Connection;
use crate::db::Settings;
use crate::error::{Error, Result};

/// How long to wait between attempts to reach the store: `first` after it went away, doubling
/// up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first attempt.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// One second, then up to half a minute: soon enough that a person who fixed their Wi-Fi
    /// sees the store back before they look for a button, rare enough to cost nothing.
    fn default() -> Backoff {
        Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

/// The connection state the window shows, and the loop that restores it.
pub(crate) struct Connectivity {
    state: watch::Sender<Connection>,
    backoff: Backoff,
    store_url: String,
    /// What "since" and "next try" are read from.
    clock: Clock,
    /// The person asked to try now ("Try now" on the offline banner).
    retry: tokio::sync::Notify,
}

impl Connectivity {
    fn now_ms(&self) -> i64 {
        self.clock.now() * 1000
    }

    /// Online until a call says otherwise, for the profile's store, backoff and clock.
    pub(crate) fn new(config: &crate::CoreConfig) -> Connectivity {
        Connectivity {
            state: watch::Sender::new(Connection {
                online: true,
                since_ms: config.clock.now() * 1000,
                problem: None,
                next_try_ms: None,
            }),
            backoff: config.reconnect,
            store_url: config.store_url.clone(),
            clock: config.clock.clone(),
            retry: tokio::sync::Notify::new(),
        }
    }

    /// The current state.
    pub(crate) fn get(&self) -> Connection {
        self.state.borrow().clone()
    }

    /// Every change of state, for the window.
    pub(crate) fn watch(&self) -> watch::Receiver<Connection> {
        self.state.subscribe()
    }

    /// Offline from the start: the store did not answer while the core opened.
    pub(crate) fn offline_at_start(&self) {
        let problem = self.problem(&Error::StoreUnreachable(String::new()));
        self.set(false, Some(problem), None);
    }

    /// What a failed attempt says to a person.
    fn problem(&self, e: &Error) -> String {
        match e {
            Error::StoreUnreachable(_) => {
                format!("The store at {} does not answer.", self.store_url)
            }
            other => other.to_string(),
        }
    }

    fn set(&self, online: bool, problem: Option<String>, next_try_ms: Option<i64>) {
        self.state.send_modify(|c| {
            if c.online != online {
                c.since_ms = self.now_ms();
            }
            c.online = online;
            c.problem = problem;
            c.next_try_ms = next_try_ms;
        });
    }

    /// Ends the current wait between attempts, so the next attempt to reach the store starts
    /// now. Nothing happens while online, and nothing is remembered for later: a press of
    /// "Try now" is for this wait only.
    pub(crate) fn retry_now(&self) {
        self.retry.notify_waiters();
    }

    /// Watches `reach` until `stop` turns true: when a call goes unanswered, marks the app
    /// offline and calls `reconnect` (which must reach the store and restore the session) after
    /// each wait of the backoff, or as soon as another call gets an answer, until it succeeds.
    pub(crate) async fn run<F, Fut>(
        &self,
        mut reach: watch::Receiver<Reachability>,
        mut stop: watch::Receiver<bool>,
        mut reconnect: F,
    ) where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        loop {
            // Online: wait for a call to go unanswered.
            let lost = async {
                loop {
                    if let Reachability::Unreachable(_) = &*reach.borrow_and_update() {
                        return;
                    }
                    if reach.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                _ = lost => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            tracing::warn!(store = %self.store_url, "the store does not answer: offline");
            let mut problem = self.problem(&Error::StoreUnreachable(String::new()));
            let mut wait = self.backoff.first;
            loop {
                let next = self.now_ms() + wait.as_millis() as i64;
                self.set(false, Some(problem.clone()), Some(next));
                // Another call got an answer (the person retried, a download asked for peers):
                // try now rather than at the end of the wait.
                let answered = async {
                    loop {
                        if reach.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                        if *reach.borrow_and_update() == Reachability::Reachable {
                            return;
                        }
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = answered => {}
                    _ = self.retry.notified() => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                match reconnect().await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::info!(error = %e, "the store is still out of reach");
                        problem = self.problem(&e);
                        wait = (wait * 2).min(self.backoff.max);
                    }
                }
            }
            tracing::info!(store = %self.store_url, "the store answers again: online");
            self.set(true, None, None);
        }
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// The store's base URL.
    pub fn store_url(&self) -> &str {
        self.store.base()
    }

    /// Offline: tries the store now instead of at the end of the current wait (the window's
    /// "Try now"); the connection state says how it went. Online it does nothing.
    pub fn connection_retry(&self) {
        self.connectivity.retry_now();
    }

    /// Watches the store's reachability until shutdown, reconnecting when it comes back.
    pub(crate) fn keep_connected(&self) {
        let watching = self.clone();
        tokio::spawn(async move {
            let reach = watching.store.reachability();
            let stop = watching.stopping.subscribe();
            watching
                .connectivity
                .run(reach, stop, || watching.reconnect())
                .await;
        });
    }

    /// Whether the store answers; offline, what the last attempt saw and when the next is.
    pub fn connection_get(&self) -> Connection {
        self.connectivity.get()
    }

    /// Every change of [`Core::connection_get`], for the window.
    pub fn connection_watch(&self) -> tokio::sync::watch::Receiver<Connection> {
        self.connectivity.watch()
    }

    /// The store answers again: checks it is this profile's store, restores the session and
    /// this computer's registration, and refreshes the catalog and licences. Any step the
    /// store does not answer fails it, to be tried again.
    async fn reconnect(&self) -> Result<()> {
        let info = self.store.store_info().await?;
        if public_key_from_hex(&info.public_key).ok() != Some(self.store_key) {
            return Err(Error::StoreKeyChanged);
        }
        if self.accounts.reconnected().await? {
            self.licences.set_session_refused(true).await?;
        }
        self.catalog.refresh().await?;
        match self.licences_sync().await {
            Err(e @ Error::StoreUnreachable(_)) => return Err(e),
            Err(e) => tracing::warn!(error = %e, "checking licences with the store"),
            Ok(()) => {}
        }
        Ok(())
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}

/// Reaches the store at start and checks its key (see [`pin_store_key`]). A store that does
/// not answer is fine for a profile that reached it before: it is known by its pinned key,
/// what it signed (the catalog cache, the licences) still verifies, and the app starts
/// offline. A profile that never reached its store has nothing to run on.
pub(crate) async fn check_store_key(
    store: &StoreClient,
    settings: &Settings,
    trusted: Option<&VerifyingKey>,
    connectivity: &Connectivity,
) -> Result<VerifyingKey> {
    match store.store_info().await {
        Ok(info) => pin_store_key(settings, &info.public_key, trusted).await,
        Err(marquee_protocol::ClientError::Unreachable(why)) => {
            let key = known_store_key(settings, trusted)
                .await?
                .ok_or(Error::StoreUnreachable(why))?;
            connectivity.offline_at_start();
            tracing::warn!(store = %store.base(), "the store does not answer: starting offline");
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}

/// The store key this profile trusts without asking the store: the caller's, else the one
/// pinned at the first contact.
async fn known_store_key(
    settings: &Settings,
    trusted: Option<&VerifyingKey>,
) -> Result<Option<VerifyingKey>> {
    if let Some(trusted) = trusted {
        return Ok(Some(*trusted));
    }
    match settings.get("store_key").await? {
        Some(pinned) => public_key_from_hex(&pinned)
            .map(Some)
            .map_err(|_| Error::StoreIncompatible("the pinned store key is malformed".into())),
        None => Ok(None),
    }
}

/// Checks the store's key: the key the caller trusts, or the key seen at the first contact
/// with the store (a changed key means another store answers at that address).
async fn pin_store_key(
    settings: &Settings,
    announced: &str,
    trusted: Option<&VerifyingKey>,
) -> Result<VerifyingKey> {
    let key = public_key_from_hex(announced)
        .map_err(|_| Error::StoreIncompatible("the store announced a malformed key".into()))?;
    if let Some(trusted) = trusted {
        return if *trusted == key {
            Ok(key)
        } else {
            Err(Error::StoreKeyChanged)
        };
    }
    match settings.get("store_key").await? {
        Some(pinned) if pinned != announced => Err(Error::StoreKeyChanged),
        Some(_) => Ok(key),
        None => {
            settings.set("store_key", announced).await?;
            Ok(key)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// "Try now" ends an hour's wait at once: the next attempt runs, and it reaching the store
    /// brings the app back online.
    #[tokio::test]
    async fn trying_now_does_not_wait_for_the_backoff() {
        let mut config = crate::CoreConfig::signed_out("/p", "http://127.0.0.1:9");
        config.reconnect = Backoff {
            first: Duration::from_secs(3600),
            max: Duration::from_secs(3600),
        };
        let link = Arc::new(Connectivity::new(&config));
        let reach = Arc::new(watch::Sender::new(Reachability::Reachable));
        let (_stop, stop_rx) = watch::channel(false);
        let attempts = Arc::new(AtomicUsize::new(0));
        let running = {
            let (link, attempts, reach) = (link.clone(), attempts.clone(), reach.clone());
            tokio::spawn(async move {
                link.run(reach.subscribe(), stop_rx, || {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    // The attempt reached the store, as the store client then records.
                    reach.send_replace(Reachability::Reachable);
                    async { Ok(()) }
                })
                .await
            })
        };
        let mut state = link.watch();
        reach.send_replace(Reachability::Unreachable("refused".into()));
        state.wait_for(|c| !c.online).await.unwrap();
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            0,
            "still waiting out the hour"
        );
        // Pressed until the loop is waiting (it may not have reached its wait yet).
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                link.retry_now();
                if attempts.load(Ordering::SeqCst) > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the retry did not start within 10 s");
        state.wait_for(|c| c.online).await.unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        running.abort();
    }
}
