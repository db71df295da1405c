//! The local playback server: `http://127.0.0.1:PORT/TOKEN/play/TITLE`.
//!
//! WebKitGTK cannot play media from a custom URI scheme, so the window's `<video>` plays from
//! this loopback server. It binds 127.0.0.1 only, on a random port, with a fresh random token per
//! run in the path, refuses any other Host header (DNS rebinding), checks the licence on every
//! request, and answers Range requests with 206 by reading only the container chunks that
//! cover the range from librqbit's file stream (which fetches the pieces under the read position
//! first), verifying and decrypting each chunk before any of its bytes leave.
//!
//! Beyond the token, it refuses requests that carry another page's `Origin` (a browser tab that
//! learnt a URL still gets nothing), answers at most [`MAX_REQUESTS`] at once (503 past that),
//! and re-checks a licensed title before every chunk it sends: a stream stops when the store
//! revokes the licence or the rental window ends. The first clear bytes of a rental start its
//! window (see [`PlaybackServer::open_with`]), so fetching the URL without the window's player
//! cannot watch a rental for free.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures::TryStreamExt;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use librqbit::ManagedTorrent;
use marquee_licence::container::Opener;
use marquee_licence::{Licence, LicenceKind};
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt};
use tokio::sync::Semaphore;

use super::range::{parse_range, RangeRequest};

use crate::licences::revocations::Revocations;

/// A response body: whole (errors, preflights) or streamed chunk by chunk (media).
type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;
/// A response of the playback server.
type Response = hyper::Response<Body>;

/// A seekable byte stream of the torrent's file (librqbit's `FileStream` is not exported).
pub type FileReader = Pin<Box<dyn AsyncReadSeek + Send>>;
/// `AsyncRead + AsyncSeek` in one trait object.
pub trait AsyncReadSeek: AsyncRead + AsyncSeek {}
impl<T: AsyncRead + AsyncSeek> AsyncReadSeek for T {}

/// Block size for clear (free) titles.
const CLEAR_BLOCK: u64 = 64 * 1024;
/// The most chunks (or clear blocks) one read of a response takes: a response's first read is
/// one chunk, so the first bytes after a seek wait for as little of the torrent as can be; each
/// read after it takes twice as many, up to this (1 MiB of 64 KiB chunks), so a player reading
/// on pays the per-read costs (a licence check, a read of the torrent, a frame) once per MiB.
const MAX_READ_CHUNKS: u64 = 64;

/// How many requests the server answers at once. A `<video>` keeps one or two range requests
/// open (a few more while it seeks) and the publish sheet's preview one more, and librqbit lends
/// only eight file streams at a time anyway. Past this a request gets 503 with `Retry-After` at
/// once rather than queueing, so a local process holding requests open cannot pile up work or
/// memory without bound.
pub const MAX_REQUESTS: usize = 16;

/// What a 503 asks the client to wait, seconds: a media element retries a busy server.
const RETRY_AFTER_S: u32 = 1;

/// Called once, with the trusted time, when the first clear bytes of a rental leave the server:
/// the core records the start of the rental window and tells the store.
pub type OnFirstBytes = Box<dyn Fn(i64) + Send + Sync>;

/// A title the window may play.
pub struct OpenTitle {
    /// The torrent.
    pub torrent: Arc<ManagedTorrent>,
    /// MIME type of the clear media.
    pub mime: String,
    /// The decryptor, for encrypted titles.
    pub opener: Option<Opener>,
    /// Length of the clear media.
    pub plaintext_len: u64,
    /// The licence, re-checked on every request.
    pub licence: Option<Licence>,
    /// The first frame time (unix seconds, 0 = not yet): the rental window starts there.
    pub first_frame_at: AtomicI64,
    /// Trusted time for the licence check on every request.
    pub clock: Arc<crate::licences::clock::TrustedClock>,
}

/// An open title and what it needs to keep checking while it streams.
pub struct Served {
    title: OpenTitle,
    /// Checked before every chunk. Kept by licence, not title: a stream of an earlier opening
    /// stops too, and a purchase moved back here (a new licence) plays.
    revoked: Revocations,
    /// For rentals: starts the window when the first clear bytes leave.
    on_first_bytes: Option<OnFirstBytes>,
}

/// The running server.
#[derive(Clone)]
pub struct PlaybackServer {
    addr: SocketAddr,
    token: Arc<str>,
    titles: Arc<RwLock<HashMap<String, Arc<Served>>>>,
    /// One permit per request being answered (its body included), [`MAX_REQUESTS`] in all.
    permits: Arc<Semaphore>,
    revoked: Revocations,
    /// The store's pictures, once the core hands them over (`/TOKEN/art/NAME`).
    art: Arc<std::sync::OnceLock<Arc<crate::art::Art>>>,
    /// Watched live channels' frames by session (`/TOKEN/live/SESSION`), until read once.
    lives: Arc<std::sync::Mutex<HashMap<String, Option<LiveFeed>>>>,
    /// Set once: the server stops accepting and closes its connections ([`Self::stop`]).
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

/// A watched channel's frames for the page, in order ([`crate::live::feed`]).
pub type LiveFeed = tokio::sync::mpsc::Receiver<Bytes>;

#[derive(Clone)]
struct Shared {
    server: PlaybackServer,
    host: Arc<str>,
}

impl PlaybackServer {
    /// Binds 127.0.0.1 on a random port and serves until the runtime ends; streams of a
    /// licence in `revoked` stop before their next chunk.
    pub(crate) async fn start(
        revoked: Revocations,
        limits: PlaybackLimits,
    ) -> anyhow::Result<PlaybackServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::serve_on(listener, revoked, limits)
    }

    /// Serves on a listener bound before the core opened (the shell binds it first, so the
    /// window's CSP can name the server's exact origin). It must be bound to 127.0.0.1: the
    /// server answers only that Host.
    pub(crate) fn start_on(
        listener: std::net::TcpListener,
        revoked: Revocations,
        limits: PlaybackLimits,
    ) -> anyhow::Result<PlaybackServer> {
        let addr = listener.local_addr()?;
        anyhow::ensure!(
            addr.ip() == std::net::Ipv4Addr::LOCALHOST,
            "the playback server listens on 127.0.0.1 only, not {addr}"
        );
        listener.set_nonblocking(true)?;
        Self::serve_on(
            tokio::net::TcpListener::from_std(listener)?,
            revoked,
            limits,
        )
    }

    /// Stops accepting and closes the open connections once their answer is written; the
    /// core calls it when it shuts down.
    pub(crate) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    fn serve_on(
        listener: tokio::net::TcpListener,
        revoked: Revocations,
        limits: PlaybackLimits,
    ) -> anyhow::Result<PlaybackServer> {
        let addr = listener.local_addr()?;
        let mut raw = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let server = PlaybackServer {
            addr,
            token: hex::encode(raw).into(),
            titles: Arc::default(),
            permits: Arc::new(Semaphore::new(MAX_REQUESTS)),
            revoked,
            art: Arc::default(),
            lives: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        };
        let shared = Shared {
            server: server.clone(),
            host: format!("127.0.0.1:{}", addr.port()).into(),
        };
        let stopped = server.stopping.subscribe();
        tokio::spawn(serve(listener, shared, limits, stopped));
        Ok(server)
    }

    /// Serves `art`'s pictures from now on, and tells it their URLs.
    pub(crate) fn serve_art(&self, art: Arc<crate::art::Art>) {
        art.serve_from(format!("http://{}/{}/art/", self.addr, self.token));
        let _ = self.art.set(art);
    }

    /// The URL a title plays from.
    pub fn url(&self, title_id: &str) -> String {
        format!("http://{}/{}/play/{title_id}", self.addr, self.token)
    }

    /// Makes a title playable (or replaces it).
    pub fn open(&self, title_id: &str, title: OpenTitle) {
        self.open_with(title_id, title, None);
    }

    /// Makes a title playable (or replaces it); `on_first_bytes` runs once, when the first
    /// clear bytes of a rental leave (whoever asked for them: the window, or anything else
    /// holding the URL), unless its first frame is already known.
    pub fn open_with(
        &self,
        title_id: &str,
        title: OpenTitle,
        on_first_bytes: Option<OnFirstBytes>,
    ) {
        let served = Served {
            title,
            revoked: self.revoked.clone(),
            on_first_bytes,
        };
        self.titles
            .write()
            .expect("playback lock")
            .insert(title_id.to_owned(), Arc::new(served));
    }

    /// The open title, if any.
    pub fn get(&self, title_id: &str) -> Option<Arc<Served>> {
        self.titles
            .read()
            .expect("playback lock")
            .get(title_id)
            .cloned()
    }

    /// Whether a response of the title is being sent right now (each holds the title while
    /// its body streams; the map holds one more).
    pub fn streaming(&self, title_id: &str) -> bool {
        self.titles
            .read()
            .expect("playback lock")
            .get(title_id)
            .is_some_and(|t| Arc::strong_count(t) > 1)
    }

    /// Stops serving a title: its URL answers 404 until it is opened again.
    pub fn close(&self, title_id: &str) {
        self.titles.write().expect("playback lock").remove(title_id);
    }

    /// Serves a watched channel's frames at the URL answered, to one reader.
    pub fn open_live(&self, session: &str, frames: LiveFeed) -> String {
        self.lives
            .lock()
            .expect("live feeds lock")
            .insert(session.to_owned(), Some(frames));
        format!("http://{}/{}/live/{session}", self.addr, self.token)
    }

    /// Forgets a watched channel's frames: its URL answers 404 from now on.
    pub fn close_live(&self, session: &str) {
        self.lives.lock().expect("live feeds lock").remove(session);
    }

    /// Records the first frame of an open title.
    pub fn first_frame(&self, title_id: &str, at: i64) {
        if let Some(t) = self.get(title_id) {
            let _ =
                t.title
                    .first_frame_at
                    .compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst);
        }
    }
}

impl Served {
    /// The title as it was opened.
    pub fn title(&self) -> &OpenTitle {
        &self.title
    }

    /// Whether a licensed title may still send bytes now: not revoked, clock trusted, window
    /// open. Free titles always may.
    fn check_licence(&self) -> Result<(), String> {
        let Some(licence) = &self.title.licence else {
            return Ok(());
        };
        if self.revoked.contains(&licence.licence_id) {
            return Err("the store revoked this licence".into());
        }
        let first = self.title.first_frame_at.load(Ordering::SeqCst);
        let now = self
            .title
            .clock
            .current()
            .map_err(|_| "the computer's clock is behind".to_owned())?;
        licence
            .check_time(now, (first != 0).then_some(first))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Clear bytes of the title are leaving: a rental's window starts now if it has not yet.
    fn bytes_sent(&self) {
        let (Some(licence), Some(start)) = (&self.title.licence, &self.on_first_bytes) else {
            return;
        };
        if licence.kind != LicenceKind::Rent
            || self.title.first_frame_at.load(Ordering::SeqCst) != 0
        {
            return;
        }
        // The licences' "now that never fails" (`Licences::now_or_mark`) on the same clock: the
        // request was checked against it a moment ago.
        let at = self.title.clock.current().unwrap_or_else(|b| b.trusted);
        let won = self
            .title
            .first_frame_at
            .compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if won {
            start(at);
        }
    }
}

/// The origins of the app's own pages: the `<video>` is fetched with `crossorigin` so the page
/// may draw frames (posters, thumbnails); nobody else gets CORS access.
const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

fn app_origin(origin: &HeaderValue) -> bool {
    APP_ORIGINS
        .iter()
        .any(|o| origin.as_bytes() == o.as_bytes())
}

fn cors(headers: &HeaderMap, resp: &mut Response) {
    if let Some(origin) = headers.get(header::ORIGIN) {
        if app_origin(origin) {
            let h = resp.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// How much the playback server holds at once, and for how long. Only a local process can
/// reach it, but one that opens connections and never finishes a request, or keeps them idle,
/// must not hold them for ever, nor the webview's own requests out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaybackLimits {
    /// Connections open at once; past that new ones wait in the kernel's backlog until one
    /// ends. A `<video>` element, the page's fetches and a live stream keep a few open at most:
    /// WebKit opens a few per media element.
    pub connections: usize,
    /// From a connection's start, or the end of its last response, to the end of the next
    /// request's headers: a request's headers arrive at once from the webview, and an idle
    /// kept-alive connection is closed after this too.
    pub header_read: std::time::Duration,
    /// From a request's headers to its answer's headers. Only a picture fetched from a store
    /// that stopped answering can take long; the answer is then 503 with `Retry-After`, and the
    /// connection closes. A media body is not bounded by this: it streams as pieces arrive.
    pub answer: std::time::Duration,
}

impl Default for PlaybackLimits {
    fn default() -> PlaybackLimits {
        PlaybackLimits {
            connections: 64,
            header_read: std::time::Duration::from_secs(10),
            answer: std::time::Duration::from_secs(20),
        }
    }
}

/// Accepts connections until the runtime ends; each is served as HTTP/1.1 (all a `<video>`
/// element speaks to a loopback server), within `limits`.
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Shared,
    limits: PlaybackLimits,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let server_limits = marquee_protocol::server::ServerLimits {
        connections: limits.connections,
        header_read: limits.header_read,
    };
    let stop = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    marquee_protocol::server::serve(listener, server_limits, stop, move |_| {
        let shared = shared.clone();
        hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            async move {
                let answer = tokio::time::timeout(limits.answer, bounded(&shared, req)).await;
                Ok::<_, std::convert::Infallible>(answer.unwrap_or_else(|_| late(limits.answer)))
            }
        })
    })
    .await;
}

/// The answer to a request the server could not answer within `limit`: 503, try again in a
/// moment, and this connection closes (what held it up may still be running).
fn late(limit: std::time::Duration) -> Response {
    let mut resp = refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "the playback server could not answer within {} s: try again in a moment",
            limit.as_secs_f64()
        ),
    );
    let h = resp.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Answers a request while holding one of the server's permits, or 503 when all are taken. The
/// permit lives in the response body, so a streaming response holds it until its last byte is
/// written or the client goes away.
async fn bounded<B>(shared: &Shared, req: Request<B>) -> Response {
    let Ok(permit) = shared.server.permits.clone().try_acquire_owned() else {
        let mut resp = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the playback server is busy",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        return resp;
    };
    route(shared, req).await.map(|body| {
        body.map_frame(move |frame| {
            let _held = &permit;
            frame
        })
        .boxed_unsync()
    })
}

/// `/{token}/play/{title}`: GET and HEAD play, OPTIONS is the CORS preflight.
/// `/{token}/art/{name}`: GET, a poster or backdrop (`?w=WIDTH`: shrunk to about that width).
/// `/{token}/live/{session}`: GET, a watched channel's frames.
async fn route<B>(shared: &Shared, req: Request<B>) -> Response {
    let path = req.uri().path();
    let mut parts = path.strip_prefix('/').unwrap_or_default().splitn(3, '/');
    let (token, what, title_id) = (parts.next(), parts.next(), parts.next());
    if let (Some(token), Some("art"), Some(name)) = (token, what, title_id) {
        return match *req.method() {
            Method::GET | Method::HEAD => {
                let width = asked_width(req.uri().query());
                art(shared, token, name, width, req.headers()).await
            }
            _ => refuse(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"),
        };
    }
    if let (Some(token), Some("live"), Some(session)) = (token, what, title_id) {
        return match *req.method() {
            Method::GET => live(shared, token, session, req.headers()).await,
            Method::OPTIONS => preflight(shared, token, req.headers()),
            _ => refuse(StatusCode::METHOD_NOT_ALLOWED, "only GET"),
        };
    }
    let (Some(token), Some("play"), Some(title_id)) = (token, what, title_id) else {
        return refuse(StatusCode::NOT_FOUND, "not found");
    };
    if title_id.is_empty() || title_id.contains('/') {
        return refuse(StatusCode::NOT_FOUND, "not found");
    }
    match *req.method() {
        Method::GET | Method::HEAD => {
            play(shared, token, title_id, req.method(), req.headers()).await
        }
        Method::OPTIONS => preflight(shared, token, req.headers()),
        _ => refuse(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"),
    }
}

fn whole(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut resp = hyper::Response::new(
        Full::new(body.into())
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut resp = whole(status, message.to_owned());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Checks the token (in constant time) and the Host header.
fn authorised(
    shared: &Shared,
    token: &str,
    headers: &HeaderMap,
) -> Result<(), (StatusCode, &'static str)> {
    let same: bool = token
        .as_bytes()
        .ct_eq(shared.server.token.as_bytes())
        .into();
    if !same {
        return Err((StatusCode::NOT_FOUND, "not found"));
    }
    let host_ok = headers
        .get(header::HOST)
        .is_some_and(|h| h.as_bytes() == shared.host.as_bytes());
    if !host_ok {
        return Err((StatusCode::FORBIDDEN, "wrong host"));
    }
    // A page of another origin (a browser tab given the URL) gets nothing. The window's own
    // pages are allowed: WebKitGTK (2.50) sends no `Origin` for a `<video>` without
    // `crossorigin` (`Sec-Fetch-Mode: no-cors`) and `Origin: tauri://localhost` for a
    // `crossorigin` video and for `fetch` (`cors`), as seen in the window tests.
    if let Some(origin) = headers.get(header::ORIGIN).filter(|o| !app_origin(o)) {
        tracing::debug!(?origin, "playback refused a request from another origin");
        return Err((StatusCode::FORBIDDEN, "foreign origin"));
    }
    Ok(())
}

/// A picture of the store's, from the profile's cache or fetched once.
/// The width a picture is asked for at (`?w=360`); none, or one that does not parse, is the
/// original.
fn asked_width(query: Option<&str>) -> Option<u32> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("w="))
        .and_then(|w| w.parse().ok())
        .filter(|w| *w > 0)
}

async fn art(
    shared: &Shared,
    token: &str,
    name: &str,
    width: Option<u32>,
    headers: &HeaderMap,
) -> Response {
    if let Err((status, why)) = authorised(shared, token, headers) {
        return refuse(status, why);
    }
    let Some(art) = shared.server.art.get() else {
        return refuse(StatusCode::NOT_FOUND, "not found");
    };
    let picture = match width {
        Some(width) => art.get_sized(name, width).await,
        None => art.get(name).await,
    };
    let Some((bytes, kind)) = picture else {
        return refuse(StatusCode::NOT_FOUND, "no such picture");
    };
    let mut resp = whole(StatusCode::OK, bytes);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Names are content-addressed by store and path: the same name is the same picture for
    // the run (the token changes each run).
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// `/{token}/live/{session}`: a watched channel's frames ([`crate::live::feed`]), streamed as
/// they come, to one reader: the live player's `fetch`. A second read of the same session gets
/// 409 (the frames went to the first).
async fn live(shared: &Shared, token: &str, session: &str, headers: &HeaderMap) -> Response {
    if let Err((status, why)) = authorised(shared, token, headers) {
        return refuse(status, why);
    }
    let feed = {
        let mut lives = shared.server.lives.lock().expect("live feeds lock");
        match lives.get_mut(session) {
            Some(feed) => feed.take(),
            None => return refuse(StatusCode::NOT_FOUND, "this channel is not being watched"),
        }
    };
    let Some(frames) = feed else {
        return refuse(
            StatusCode::CONFLICT,
            "this live stream is already being read",
        );
    };
    let body = futures::stream::unfold(frames, |mut frames| async move {
        frames
            .recv()
            .await
            .map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), frames))
    });
    let mut resp = hyper::Response::new(StreamBody::new(body).boxed_unsync());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    cors(headers, &mut resp);
    resp
}

fn preflight(shared: &Shared, token: &str, headers: &HeaderMap) -> Response {
    if let Err((status, why)) = authorised(shared, token, headers) {
        return refuse(status, why);
    }
    let mut resp = whole(StatusCode::NO_CONTENT, Bytes::new());
    cors(headers, &mut resp);
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("range"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET"),
    );
    resp
}

async fn play(
    shared: &Shared,
    token: &str,
    title_id: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    if let Err((status, why)) = authorised(shared, token, headers) {
        return refuse(status, why);
    }
    let Some(served) = shared.server.get(title_id) else {
        return refuse(StatusCode::NOT_FOUND, "this title is not open for playback");
    };
    if let Err(why) = served.check_licence() {
        return refuse(StatusCode::FORBIDDEN, &why);
    }
    let title = &served.title;
    let len = title.plaintext_len;
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, end) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, len.saturating_sub(1)),
        RangeRequest::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => {
            let mut r = refuse(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}")).expect("header"),
            );
            return r;
        }
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    let mut resp = if *method == Method::HEAD || count == 0 {
        whole(status, Bytes::new())
    } else {
        match title.torrent.clone().stream(0).await {
            Ok(file) => {
                let chunks = plaintext_stream(served.clone(), Box::pin(file), start, end)
                    .map_ok(Frame::data);
                let mut resp = hyper::Response::new(StreamBody::new(chunks).boxed_unsync());
                *resp.status_mut() = status;
                resp
            }
            Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, &format!("{e:#}")),
        }
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&title.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("header"),
        );
    }
    cors(headers, &mut resp);
    resp
}

/// Yields the clear bytes `start..=end`, one chunk at a time, each verified before it leaves.
/// Before each chunk the licence is checked again (a long stream must not outlive a revocation
/// or the rental window; an error ends the response mid-body); the first chunk of a rental
/// starts its window.
pub fn plaintext_stream(
    title: Arc<Served>,
    file: FileReader,
    start: u64,
    end: u64,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    struct St {
        title: Arc<Served>,
        file: FileReader,
        pos: u64,
        end: u64,
        buf: Vec<u8>,
        /// How many chunks the next read takes.
        chunks: u64,
    }
    let st = St {
        title,
        file,
        pos: start,
        end,
        buf: Vec::new(),
        chunks: 1,
    };
    futures::stream::try_unfold(st, |mut st| async move {
        if st.pos > st.end {
            return Ok(None);
        }
        let refused = |why| std::io::Error::new(std::io::ErrorKind::PermissionDenied, why);
        st.title.check_licence().map_err(refused)?;
        let bytes = read_at(
            &mut st.file,
            &st.title.title,
            (st.pos, st.end),
            st.chunks,
            &mut st.buf,
        )
        .await?;
        st.chunks = (st.chunks * 2).min(MAX_READ_CHUNKS);
        // Again: the read may have waited long for the torrent's pieces.
        st.title.check_licence().map_err(refused)?;
        st.title.bytes_sent();
        st.pos += bytes.len() as u64;
        Ok(Some((bytes, st)))
    })
}

/// Reads the clear bytes from `pos` to the end of the `chunks`-th chunk (or block) from the one
/// holding `pos`, not past `end`. The chunks are read from the torrent in one read and opened
/// in place together (spread over the cores when that pays), every one verified before any
/// byte leaves.
pub async fn read_at(
    file: &mut FileReader,
    title: &OpenTitle,
    (pos, end): (u64, u64),
    chunks: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<Bytes> {
    let chunks = chunks.max(1);
    match &title.opener {
        Some(opener) => {
            let header = opener.header();
            let chunk_size = header.chunk_size as u64;
            let first = pos / chunk_size;
            let last = (*header.chunks_covering(pos, end).end()).min(first + chunks - 1);
            let sealed_len: usize = (first..=last).map(|i| header.sealed_chunk_len(i)).sum();
            buf.resize(sealed_len, 0);
            file.seek(std::io::SeekFrom::Start(header.chunk_offset(first)))
                .await?;
            file.read_exact(buf).await?;
            let opened = opener
                .open_chunks_in_place(first..=last, buf)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            // The clear bytes wanted, as offsets from the first chunk's first clear byte.
            let base = first * chunk_size;
            let (from, to) = ((pos - base) as usize, (end + 1 - base) as usize);
            let mut out = bytes::BytesMut::with_capacity(to.min(sealed_len) - from);
            let mut at = 0;
            for r in opened {
                let (lo, hi) = (from.max(at), to.min(at + r.len()));
                if lo < hi {
                    out.extend_from_slice(&buf[r.start + lo - at..r.start + hi - at]);
                }
                at += r.len();
            }
            Ok(out.freeze())
        }
        None => {
            let to = (end + 1).min((pos / CLEAR_BLOCK + chunks) * CLEAR_BLOCK);
            buf.resize((to - pos) as usize, 0);
            file.seek(std::io::SeekFrom::Start(pos)).await?;
            file.read_exact(buf).await?;
            Ok(Bytes::copy_from_slice(buf))
        }
    }
}
