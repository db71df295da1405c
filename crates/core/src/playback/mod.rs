//! Playback: opening a library title on the local playback server (licence checked, container
//! header read through the torrent, content key unwrapped) and saving where it stopped.

pub mod range;
mod server;

pub use server::*;

use std::net::SocketAddr;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use librqbit::ManagedTorrent;
use marquee_licence::container::{Header, Opener, HEADER_LEN};
use marquee_licence::LicenceKind;
use tokio::io::AsyncReadExt;

use crate::api::{PlaybackSource, TitleKind};
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::library::Library;
use crate::licences::revocations::Revocations;
use crate::licences::Licences;
use crate::sync::LicenceSync;
use crate::torrents::Torrents;

/// A loopback listener bound before the core opens, for its playback server. The shell binds it
/// before the window exists so the window's CSP can allow exactly this origin for media; the
/// first core that opens takes it (clones share the one listener).
#[derive(Clone, Debug)]
pub struct PlaybackListener {
    addr: SocketAddr,
    listener: Arc<Mutex<Option<std::net::TcpListener>>>,
}

impl PlaybackListener {
    /// Binds 127.0.0.1 on a random port.
    pub fn bind_loopback() -> std::io::Result<PlaybackListener> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        Ok(PlaybackListener {
            addr: listener.local_addr()?,
            listener: Arc::new(Mutex::new(Some(listener))),
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The origin pages load from it: `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn take(&self) -> Option<std::net::TcpListener> {
        self.listener.lock().expect("playback listener").take()
    }

    /// Hands the listener back for the next core of this run (the shell opens a core again
    /// after a data folder that did not move): the window's CSP names this port alone.
    fn give_back(&self, listener: std::net::TcpListener) {
        *self.listener.lock().expect("playback listener") = Some(listener);
    }
}

/// The playback server and what opening a title needs.
pub(crate) struct Playback {
    server: PlaybackServer,
    /// The shell's listener and a second handle on its socket, given back when this core
    /// stops so the next core serves on the same port.
    lent: std::sync::Mutex<Option<(PlaybackListener, std::net::TcpListener)>>,
    library: Library,
    licences: Arc<Licences>,
    sync: Arc<LicenceSync>,
    torrents: Arc<Torrents>,
    identity: Arc<Identity>,
}

impl Playback {
    /// Starts the playback server within the config's limits, on its listener when one is
    /// given and still free, else on a random loopback port. Streams of a licence in `revoked` (which the licence sync fills)
    /// stop before their next chunk.
    pub(crate) async fn start(
        library: Library,
        licences: Arc<Licences>,
        sync: Arc<LicenceSync>,
        torrents: Arc<Torrents>,
        identity: Arc<Identity>,
        config: &crate::CoreConfig,
        revoked: Revocations,
    ) -> Result<Playback> {
        let limits = config.playback_limits;
        let mut lent = None;
        let server = match &config.playback_listener {
            Some(l) => match l.take() {
                Some(bound) => {
                    // A second descriptor keeps the socket listening after this server drops
                    // its own (connections wait in the backlog for the next core).
                    if let Ok(spare) = bound.try_clone() {
                        lent = Some((l.clone(), spare));
                    }
                    PlaybackServer::start_on(bound, revoked, limits)?
                }
                None => {
                    // Another core of this run took it: playing still works wherever the
                    // window's CSP does not pin the origin.
                    tracing::warn!(addr = %l.local_addr(), "the playback listener is taken; binding another port");
                    PlaybackServer::start(revoked.clone(), limits).await?
                }
            },
            None => PlaybackServer::start(revoked.clone(), limits).await?,
        };
        Ok(Playback {
            server,
            lent: std::sync::Mutex::new(lent),
            library,
            licences,
            sync,
            torrents,
            identity,
        })
    }

    /// Stops the server and gives the shell's listener back for a later core of this run.
    pub(crate) fn stop(&self) {
        self.server.stop();
        if let Some((listener, socket)) = self.lent.lock().expect("lent listener").take() {
            listener.give_back(socket);
        }
    }

    /// The server, for publishing's previews.
    pub(crate) fn server(&self) -> &PlaybackServer {
        &self.server
    }

    /// Opens a title on the playback server. Checks the licence (signature, this computer,
    /// rental window), reads the container header through the torrent (its first piece comes
    /// first), unwraps the content key and returns the URL the window plays.
    pub(crate) async fn open(&self, title_id: &str) -> Result<PlaybackSource> {
        let row = self.library.row(title_id).await?;
        if TitleKind::parse(&row.title.kind) == TitleKind::Game {
            return Err(Error::Playback(
                "games are downloaded, not played in the window".into(),
            ));
        }
        if row.licence.is_some() {
            // Honour revocations as soon as the store is reachable.
            self.sync.sync_recent().await.ok();
        }
        let row = self.library.row(title_id).await?;
        if row.revoked {
            return Err(Error::LicenceRevoked);
        }
        if row.licence.is_some() {
            if row.tampered {
                // A library copied from another computer does not match this computer's seal
                // either: there the licence, made for that computer, says so first.
                if let Some(bytes) = &row.licence {
                    self.licences.verified(&row.title, bytes)?;
                }
                return Err(Error::LibraryTampered);
            }
            self.licences.require_checked().await?;
        }
        let now = if row.licence.is_some() {
            self.licences.trusted_now().await?
        } else {
            self.licences.local_now()
        };
        let (handle, _) = self.torrents.ensure(&row, None).await?;
        let (opener, plaintext_len, licence) = match &row.licence {
            Some(bytes) => {
                let licence = self.licences.verified(&row.title, bytes)?;
                licence
                    .check_time(now, row.first_frame_at)
                    .map_err(Error::from_licence)?;
                let header = read_header(&handle).await?;
                let key = licence
                    .unwrap_key(&self.identity.keys, &header.nonce_prefix)
                    .map_err(Error::from_licence)?;
                let opener =
                    Opener::new(&key, header).map_err(|e| Error::Playback(e.to_string()))?;
                (Some(opener), header.plaintext_len, Some(licence))
            }
            None if row.title.encrypted => {
                return Err(Error::LicenceInvalid("no licence is stored for it".into()))
            }
            None => (None, row.title.size_bytes, None),
        };
        // A rental's window starts with its first clear bytes, whoever fetched them.
        let on_first_bytes = licence
            .as_ref()
            .filter(|l| l.kind == LicenceKind::Rent)
            .map(|_| {
                let (library, sync, id) =
                    (self.library.clone(), self.sync.clone(), title_id.to_owned());
                Box::new(move |at: i64| {
                    let (library, sync, id) = (library.clone(), sync.clone(), id.clone());
                    tokio::spawn(async move {
                        if let Err(e) = window_started(&library, &sync, &id, at).await {
                            tracing::warn!(title = %id, error = %e, "recording the first play");
                        }
                    });
                }) as OnFirstBytes
            });
        self.server.open_with(
            title_id,
            OpenTitle {
                torrent: handle,
                mime: row.title.mime.clone(),
                opener,
                plaintext_len,
                licence,
                first_frame_at: AtomicI64::new(row.first_frame_at.unwrap_or(0)),
                clock: self.licences.clock(),
            },
            on_first_bytes,
        );
        Ok(PlaybackSource {
            title_id: title_id.to_owned(),
            url: self.server.url(title_id),
            mime: row.title.mime.clone(),
            position_s: row.position_s,
        })
    }

    /// Saves the playback position; a report with `first_frame` starts the rental window if the
    /// first bytes the server sent have not already.
    pub(crate) async fn report(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame: bool,
    ) -> Result<()> {
        let now = self.licences.now_or_mark();
        let first = first_frame.then_some(now);
        self.library
            .report_playback(title_id, position_s.max(0.0), first)
            .await?;
        if first_frame {
            self.server.first_frame(title_id, now);
            window_started(&self.library, &self.sync, title_id, now).await?;
        }
        Ok(())
    }
}

/// Records the first play of a title at `at` unless one is recorded (the first one stays), and
/// tells the store in the background; [`LicenceSync::sync`] retries what it could not.
async fn window_started(
    library: &Library,
    sync: &LicenceSync,
    title_id: &str,
    at: i64,
) -> Result<()> {
    library.start_window(title_id, at).await?;
    if let Some(row) = library.get(title_id).await? {
        if let Some(at) = row.first_frame_at.filter(|_| !row.first_frame_reported) {
            sync.report_first_frame(&row, at);
        }
    }
    Ok(())
}

/// Reads and parses the container header through the torrent's stream.
async fn read_header(handle: &Arc<ManagedTorrent>) -> Result<Header> {
    let read = async {
        let mut stream = handle.clone().stream(0).await?;
        let mut buf = [0u8; HEADER_LEN];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .map_err(|_| Error::Download("no peer sent the start of the title within a minute".into()))?
        .map_err(|e| Error::Download(format!("{e:#}")))?;
    Header::parse(&buf).map_err(|e| Error::Playback(e.to_string()))
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// Opens a title on the playback server. Checks the licence (signature, this computer,
    /// rental window), reads the container header through the torrent (its first piece comes
    /// first), unwraps the content key and returns the URL the window plays.
    /// A paused or removed download starts again: the person asked to watch now.
    pub async fn playback_open(&self, title_id: &str) -> Result<PlaybackSource> {
        self.downloads.before_watch(title_id).await?;
        self.playback.open(title_id).await
    }

    /// Saves the playback position; a report with `first_frame` starts the rental window if the
    /// playback server has not already (a rental's window starts with the first clear bytes it
    /// sends, whoever asks for them).
    pub async fn playback_report(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame: bool,
    ) -> Result<()> {
        self.playback
            .report(title_id, position_s, first_frame)
            .await
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}
