//! Whether the store answers, and getting it back. The store client records the outcome of
//! every call ([`Reachability`]); when one goes unanswered the app is offline: it runs on what
//! this computer holds (the verified catalog cache, downloaded titles and their licences) and
//! tries the store again by itself, sooner when some other call gets an answer first. Back
//! online, the core signs in, registers this computer, refreshes the catalog and checks
//! licences again before it says so.

use std::future::Future;
use std::time::Duration;

use marquee_protocol::Reachability;
use tokio::sync::watch;

use crate::api::Connection;
use crate::error::{Error, Result};
use crate::time::unix_now;

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
}

impl Connectivity {
    /// Online until a call says otherwise.
    pub(crate) fn new(store_url: &str, backoff: Backoff) -> Connectivity {
        Connectivity {
            state: watch::Sender::new(Connection {
                online: true,
                since_ms: now_ms(),
                problem: None,
                next_try_ms: None,
            }),
            backoff,
            store_url: store_url.to_owned(),
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
                c.since_ms = now_ms();
            }
            c.online = online;
            c.problem = problem;
            c.next_try_ms = next_try_ms;
        });
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
                let next = now_ms() + wait.as_millis() as i64;
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

fn now_ms() -> i64 {
    unix_now() * 1000
}
