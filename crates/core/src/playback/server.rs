//! The local playback server: `http://127.0.0.1:PORT/TOKEN/play/TITLE`.
//!
//! WebKitGTK cannot play media from a custom URI scheme, so the window's `<video>` plays from
//! this loopback server. It binds 127.0.0.1 only, on a random port, with a fresh random token per
//! run in the path, refuses any other Host header (DNS rebinding), checks the licence on every
//! request, and answers Range requests with 206 by reading only the container chunks that
//! cover the range from librqbit's file stream (which fetches the pieces under the read position
//! first), verifying and decrypting each chunk before any of its bytes leave.

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
use marquee_licence::Licence;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt};

use super::range::{parse_range, RangeRequest};

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

/// The running server.
#[derive(Clone)]
pub struct PlaybackServer {
    addr: SocketAddr,
    token: Arc<str>,
    titles: Arc<RwLock<HashMap<String, Arc<OpenTitle>>>>,
}

#[derive(Clone)]
struct Shared {
    server: PlaybackServer,
    host: Arc<str>,
}

impl PlaybackServer {
    /// Binds 127.0.0.1 on a random port and serves until the runtime ends.
    pub async fn start() -> anyhow::Result<PlaybackServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let mut raw = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let server = PlaybackServer {
            addr,
            token: hex::encode(raw).into(),
            titles: Arc::default(),
        };
        let shared = Shared {
            server: server.clone(),
            host: format!("127.0.0.1:{}", addr.port()).into(),
        };
        tokio::spawn(serve(listener, shared));
        Ok(server)
    }

    /// The URL a title plays from.
    pub fn url(&self, title_id: &str) -> String {
        format!("http://{}/{}/play/{title_id}", self.addr, self.token)
    }

    /// Makes a title playable (or replaces it).
    pub fn open(&self, title_id: &str, title: OpenTitle) {
        self.titles
            .write()
            .expect("playback lock")
            .insert(title_id.to_owned(), Arc::new(title));
    }

    /// The open title, if any.
    pub fn get(&self, title_id: &str) -> Option<Arc<OpenTitle>> {
        self.titles
            .read()
            .expect("playback lock")
            .get(title_id)
            .cloned()
    }

    /// Records the first frame of an open title.
    pub fn first_frame(&self, title_id: &str, at: i64) {
        if let Some(t) = self.get(title_id) {
            let _ = t
                .first_frame_at
                .compare_exchange(0, at, Ordering::SeqCst, Ordering::SeqCst);
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

fn cors(headers: &HeaderMap, resp: &mut Response) {
    if let Some(origin) = headers.get(header::ORIGIN) {
        if APP_ORIGINS
            .iter()
            .any(|o| origin.as_bytes() == o.as_bytes())
        {
            let h = resp.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// Accepts connections until the runtime ends; each is served as HTTP/1.1 (all a `<video>`
/// element speaks to a loopback server).
async fn serve(listener: tokio::net::TcpListener, shared: Shared) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, say: the next accept may work.
                tracing::warn!(error = %e, "playback server could not accept a connection");
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&shared, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            // A client that goes away mid-response is normal for media: nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

/// `/{token}/play/{title}`: GET and HEAD play, OPTIONS is the CORS preflight.
async fn route<B>(shared: &Shared, req: Request<B>) -> Response {
    let path = req.uri().path();
    let mut parts = path.strip_prefix('/').unwrap_or_default().splitn(3, '/');
    let (Some(token), Some("play"), Some(title_id)) = (parts.next(), parts.next(), parts.next())
    else {
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
    Ok(())
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
    let Some(title) = shared.server.get(title_id) else {
        return refuse(StatusCode::NOT_FOUND, "this title is not open for playback");
    };
    if let Some(licence) = &title.licence {
        let first = title.first_frame_at.load(Ordering::SeqCst);
        let now = match title.clock.now(crate::time::unix_now()) {
            Ok(t) => t,
            Err(_) => return refuse(StatusCode::FORBIDDEN, "the computer's clock is behind"),
        };
        if let Err(e) = licence.check_time(now, (first != 0).then_some(first)) {
            return refuse(StatusCode::FORBIDDEN, &e.to_string());
        }
    }
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
                let chunks =
                    plaintext_stream(title.clone(), Box::pin(file), start, end).map_ok(Frame::data);
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
pub fn plaintext_stream(
    title: Arc<OpenTitle>,
    file: FileReader,
    start: u64,
    end: u64,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    struct St {
        title: Arc<OpenTitle>,
        file: FileReader,
        pos: u64,
        end: u64,
        buf: Vec<u8>,
    }
    let st = St {
        title,
        file,
        pos: start,
        end,
        buf: Vec::new(),
    };
    futures::stream::try_unfold(st, |mut st| async move {
        if st.pos > st.end {
            return Ok(None);
        }
        let bytes = read_at(&mut st.file, &st.title, st.pos, st.end, &mut st.buf).await?;
        st.pos += bytes.len() as u64;
        Ok(Some((bytes, st)))
    })
}

/// Reads the clear bytes from `pos` to the end of the chunk (or block) holding `pos`, not past
/// `end`.
pub async fn read_at(
    file: &mut FileReader,
    title: &OpenTitle,
    pos: u64,
    end: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<Bytes> {
    match &title.opener {
        Some(opener) => {
            let header = opener.header();
            let chunk_size = header.chunk_size as u64;
            let index = pos / chunk_size;
            let sealed_len = header.sealed_chunk_len(index);
            buf.resize(sealed_len, 0);
            file.seek(std::io::SeekFrom::Start(header.chunk_offset(index)))
                .await?;
            file.read_exact(buf).await?;
            opener
                .open_chunk(index, buf)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            let chunk_start = index * chunk_size;
            let from = (pos - chunk_start) as usize;
            let to = ((end + 1).min(chunk_start + buf.len() as u64) - chunk_start) as usize;
            Ok(Bytes::copy_from_slice(&buf[from..to]))
        }
        None => {
            let to = (end + 1).min((pos / CLEAR_BLOCK + 1) * CLEAR_BLOCK);
            buf.resize((to - pos) as usize, 0);
            file.seek(std::io::SeekFrom::Start(pos)).await?;
            file.read_exact(buf).await?;
            Ok(Bytes::copy_from_slice(buf))
        }
    }
}
