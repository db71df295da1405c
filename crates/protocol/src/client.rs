//! The typed client of the store's HTTP API: the app signs in with it, and `marquee-store seed`
//! reads the catalog with it. Error answers keep the store's stable [`ErrorCode`], so callers
//! can tell a person what happened and what to do next.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::*;
use crate::sign::{sign, SignatureContext};

/// Why a call to the store failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No answer: the network, DNS, a refused connection or a timeout.
    #[error("the store cannot be reached: {0}")]
    Unreachable(String),
    /// The store answered with an error.
    #[error("the store refused ({}): {message}", code.as_str())]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The store's stable code.
        code: ErrorCode,
        /// The store's sentence.
        message: String,
    },
    /// An answer that is not what this API version sends.
    #[error("the store sent an answer this version of Marquee does not understand: {0}")]
    Malformed(String),
}

/// Results of store calls.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Whether the store answered the latest call made through a client (any of its clones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reachability {
    /// No call has finished yet.
    Unknown,
    /// The latest call got an answer (an error answer counts: the store is there).
    Reachable,
    /// The latest call got no answer, for this reason.
    Unreachable(String),
}

/// One answer of [`StoreClient::catalog_page`].
#[derive(Debug)]
pub enum CatalogPage {
    /// The answer is the one whose ETag was sent: nothing changed since.
    NotModified,
    /// A signed answer (not verified yet), its ETag and its size on the wire.
    Changed {
        /// The answer as the store signed it.
        signed: SignedFeed,
        /// Its ETag, to send as `If-None-Match` when asking the same again.
        etag: Option<String>,
        /// The body's length in bytes.
        bytes: u64,
    },
}

/// A client of one store. Clones share the session: signing in or out on one signs in or
/// out on all (the app's domains each hold a clone).
#[derive(Clone)]
pub struct StoreClient {
    http: reqwest::Client,
    base: String,
    token: Arc<RwLock<Option<String>>>,
    /// Shared by every clone: the app learns it lost the store (or has it back) from whichever
    /// call saw it first, rather than each domain finding out on its own.
    reach: Arc<tokio::sync::watch::Sender<Reachability>>,
}

impl StoreClient {
    /// A client of the store at `base` (e.g. `http://127.0.0.1:8640`), not signed in yet.
    pub fn new(base: &str) -> Result<StoreClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            // Only fails when the TLS backend cannot start: nothing a retry changes.
            .map_err(|e| ClientError::Unreachable(format!("no HTTP client: {e}")))?;
        Ok(StoreClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: Arc::new(RwLock::new(None)),
            reach: Arc::new(tokio::sync::watch::Sender::new(Reachability::Unknown)),
        })
    }

    /// Whether the store answered the latest call, updated by every call.
    pub fn reachability(&self) -> tokio::sync::watch::Receiver<Reachability> {
        self.reach.subscribe()
    }

    /// True when the latest call got no answer: callers with a local copy use it rather than
    /// wait on a connection that is not there.
    pub fn unreachable_now(&self) -> bool {
        matches!(*self.reach.borrow(), Reachability::Unreachable(_))
    }

    fn saw(&self, now: Reachability) {
        self.reach.send_if_modified(|was| {
            let changed = *was != now;
            *was = now;
            changed
        });
    }

    fn unreachable(&self, e: reqwest::Error) -> ClientError {
        let why = e.to_string();
        self.saw(Reachability::Unreachable(why.clone()));
        ClientError::Unreachable(why)
    }

    /// The store's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request (with the session token) and returns the body of a successful answer;
    /// error answers become [`ClientError::Refused`] with the store's code.
    async fn send_raw(&self, req: reqwest::RequestBuilder) -> Result<bytes::Bytes> {
        self.send_keeping_headers(req)
            .await
            .map(|(_, _, body)| body)
    }

    /// [`Self::send_raw`], also answering the status and headers of a successful answer (a
    /// `304 Not Modified` counts as one).
    async fn send_keeping_headers(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(
        reqwest::StatusCode,
        reqwest::header::HeaderMap,
        bytes::Bytes,
    )> {
        let token = self.token();
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(|e| self.unreachable(e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(e))?;
        self.saw(Reachability::Reachable);
        if status.is_success() || status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok((status, headers, bytes));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Refused {
                status: status.as_u16(),
                code: body.code,
                message: body.message,
            }),
            // Not the store's error body: a proxy, or not a Marquee store at all.
            Err(_) => Err(ClientError::Malformed(format!(
                "HTTP {status} with no error code"
            ))),
        }
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        let bytes = self.send_raw(req).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Malformed(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// A file the store serves beside its API (a poster, say: `path` as the feed names it,
    /// starting with `/`), refused when larger than `max_bytes`.
    pub async fn asset(&self, path: &str, max_bytes: usize) -> Result<bytes::Bytes> {
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(ClientError::Malformed(format!(
                "{path:?} is not a path on the store"
            )));
        }
        let bytes = self
            .send_raw(self.http.get(format!("{}{path}", self.base)))
            .await?;
        if bytes.len() > max_bytes {
            return Err(ClientError::Malformed(format!(
                "{path} is larger than {max_bytes} bytes"
            )));
        }
        Ok(bytes)
    }

    /// Who the store is.
    pub async fn store_info(&self) -> Result<StoreInfo> {
        self.get("/api/v1/store").await
    }

    /// The session token, while signed in.
    pub fn token(&self) -> Option<String> {
        self.token.read().expect("session lock").clone()
    }

    /// Uses a session token kept from an earlier sign-in (`None` signs out locally).
    pub fn set_token(&self, token: Option<String>) {
        *self.token.write().expect("session lock") = token;
    }

    /// The live channels now, most watched first.
    pub async fn channels(&self) -> Result<crate::channels::ChannelsResponse> {
        self.get("/api/v1/channels").await
    }

    /// Uploads the signed-in account's channel poster (a JPEG or PNG); answers its path on the
    /// store (`/media/…`), to list in the channel's record.
    pub async fn channel_poster(&self, image: &[u8]) -> Result<String> {
        use base64::Engine as _;
        let body = crate::channels::ChannelPoster {
            image: base64::engine::general_purpose::STANDARD.encode(image),
        };
        let answer: serde_json::Value = self.post("/api/v1/channels/poster", &body).await?;
        answer["poster"]
            .as_str()
            .filter(|p| p.starts_with("/media/"))
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Malformed("the store answered no poster path".into()))
    }

    /// Lists a live channel (signed in), or updates its record.
    pub async fn channel_go_live(&self, signed: &crate::channels::SignedChannel) -> Result<()> {
        let _: serde_json::Value = self.post("/api/v1/channels", signed).await?;
        Ok(())
    }

    /// Tells the directory the channel is still live (`Heartbeat`) or ended (`End`); answers
    /// the viewers counted.
    pub async fn channel_signal(
        &self,
        channel: &str,
        kind: crate::channels::ChannelSignalKind,
        signal: &crate::channels::ChannelSignal,
    ) -> Result<u64> {
        let what = match kind {
            crate::channels::ChannelSignalKind::Heartbeat => "heartbeat",
            crate::channels::ChannelSignalKind::End => "end",
        };
        let v: serde_json::Value = self
            .post(&format!("/api/v1/channels/{channel}/{what}"), signal)
            .await?;
        Ok(v["viewers"].as_u64().unwrap_or(0))
    }

    /// A viewer joins a channel or reports while it watches: answers the channel's signed
    /// record and peers to connect to.
    pub async fn channel_viewer(
        &self,
        report: &crate::channels::SignedViewerReport,
    ) -> Result<crate::channels::JoinResponse> {
        self.post(
            &format!("/api/v1/channels/{}/viewers", report.report.channel),
            report,
        )
        .await
    }

    /// Signs in; later calls (of every clone) carry the session token.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SessionResponse> {
        let s: SessionResponse = self
            .post(
                "/api/v1/sessions",
                &SessionRequest {
                    email: email.to_owned(),
                    password: password.to_owned(),
                },
            )
            .await?;
        self.set_token(Some(s.token.clone()));
        Ok(s)
    }

    /// Signs out: the store ends the session, and this client (with its clones) forgets it.
    pub async fn sign_out(&self) -> Result<()> {
        let url = format!("{}/api/v1/sessions", self.base);
        let ended = self.send_raw(self.http.delete(url)).await.map(drop);
        self.set_token(None);
        ended
    }

    /// Ends every session of the account, this one's too.
    pub async fn sign_out_everywhere(&self) -> Result<()> {
        let url = format!("{}/api/v1/account/sessions", self.base);
        self.send_raw(self.http.delete(url)).await.map(drop)
    }

    /// A new password for the account: every other session ends; this one stays.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<()> {
        let url = format!("{}/api/v1/account/password", self.base);
        let body = PasswordChange {
            current_password: current.to_owned(),
            new_password: new.to_owned(),
        };
        self.send_raw(self.http.post(url).json(&body))
            .await
            .map(drop)
    }

    /// Creates an account and signs in to it.
    pub async fn sign_up(&self, email: &str, password: &str) -> Result<SessionResponse> {
        let s: SessionResponse = self
            .post(
                "/api/v1/accounts",
                &SignUpRequest {
                    email: email.to_owned(),
                    password: password.to_owned(),
                },
            )
            .await?;
        self.set_token(Some(s.token.clone()));
        Ok(s)
    }

    /// The account's computers and how many may be active.
    pub async fn devices(&self) -> Result<DeviceList> {
        self.get("/api/v1/devices").await
    }

    /// Deactivates one of the account's computers: its licences are revoked, its sessions end.
    pub async fn deactivate_device(&self, device_id: &str) -> Result<()> {
        let url = format!("{}/api/v1/devices/{device_id}", self.base);
        self.send_raw(self.http.delete(url)).await.map(drop)
    }

    /// The purchase history, newest first.
    pub async fn order_history(&self) -> Result<OrderHistory> {
        self.get("/api/v1/orders").await
    }

    /// Tops up the wallet with a voucher code.
    pub async fn redeem_voucher(&self, code: &str) -> Result<WalletResponse> {
        self.post(
            "/api/v1/vouchers/redeem",
            &RedeemRequest {
                code: code.to_owned(),
            },
        )
        .await
    }

    /// What the account holds on this computer, for its current key, without a charge.
    pub async fn restore(&self, device_id: &str) -> Result<RestoreResponse> {
        self.post(
            "/api/v1/licences/restore",
            &RestoreRequest {
                device_id: device_id.to_owned(),
            },
        )
        .await
    }

    /// Registers this computer's device id and public key.
    pub async fn register_device(
        &self,
        device_id: &str,
        public_key: &[u8; 32],
        publisher_key: &[u8; 32],
    ) -> Result<()> {
        let body = DeviceRequest {
            device_id: device_id.to_owned(),
            public_key: hex::encode(public_key),
            publisher_key: Some(hex::encode(publisher_key)),
        };
        self.send_raw(
            self.http
                .post(format!("{}/api/v1/devices", self.base))
                .json(&body),
        )
        .await
        .map(drop)
    }

    /// The signed catalog feed (its first page, as large as the store serves).
    pub async fn catalog(&self) -> Result<SignedFeed> {
        self.get("/api/v1/catalog").await
    }

    /// One answer of the catalog feed for `query`; with `if_none_match` (the ETag of the same
    /// query's last answer) the store may answer [`CatalogPage::NotModified`] without a body.
    pub async fn catalog_page(
        &self,
        query: &CatalogQuery,
        if_none_match: Option<&str>,
    ) -> Result<CatalogPage> {
        let mut req = self
            .http
            .get(format!("{}/api/v1/catalog", self.base))
            .query(query);
        if let Some(etag) = if_none_match {
            req = req.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let (status, headers, body) = self.send_keeping_headers(req).await?;
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(CatalogPage::NotModified);
        }
        let signed: SignedFeed =
            serde_json::from_slice(&body).map_err(|e| ClientError::Malformed(e.to_string()))?;
        let etag = headers
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(CatalogPage::Changed {
            signed,
            etag,
            bytes: body.len() as u64,
        })
    }

    /// The wallet.
    pub async fn wallet(&self) -> Result<WalletResponse> {
        self.get("/api/v1/wallet").await
    }

    /// Places (or retries) an order.
    pub async fn order(&self, req: &OrderRequest) -> Result<OrderResponse> {
        self.post("/api/v1/orders", req).await
    }

    /// Peers and the tracker of a title.
    pub async fn peers(&self, title_id: &str) -> Result<PeersResponse> {
        self.get(&format!("/api/v1/titles/{title_id}/peers")).await
    }

    /// Publishes a video to the community shelf, signed with the device's publishing key.
    pub async fn community_publish(
        &self,
        payload: &CommunityPayload,
        device_id: &str,
        key: &ed25519_dalek::SigningKey,
    ) -> Result<FeedTitle> {
        let payload = serde_json::to_string(payload).expect("a payload serialises");
        let req = CommunityRequest {
            device_id: device_id.to_owned(),
            signature: sign(key, SignatureContext::Publish, payload.as_bytes()),
            payload,
        };
        self.post("/api/v1/community", &req).await
    }

    /// The store's signed time, answering `nonce` (hex).
    pub async fn time(&self, nonce: &str) -> Result<SignedTime> {
        self.get(&format!("/api/v1/time?nonce={nonce}")).await
    }

    /// Tells the store when a licence's first frame played (the rental window starts there);
    /// answers the first frame the store recorded, which is the one that counts.
    pub async fn first_frame(&self, licence_id: &str, at: i64) -> Result<i64> {
        let url = format!("{}/api/v1/licences/{licence_id}/first-frame", self.base);
        self.send::<FirstFrameRecorded>(self.http.post(url).json(&FirstFrameReport { at }))
            .await
            .map(|r| r.at)
    }

    /// Which of this device's licences the store revoked and when its rentals first played,
    /// with its signed time answering `nonce` (hex).
    pub async fn licence_status(
        &self,
        device_id: &str,
        nonce: &str,
    ) -> Result<LicenceStatusResponse> {
        self.get(&format!(
            "/api/v1/licences/status?device_id={device_id}&nonce={nonce}"
        ))
        .await
    }

    /// Moves a purchase's licence to this device; the old device's licence is revoked.
    pub async fn licence_move(&self, licence_id: &str, device_id: &str) -> Result<LicenceResponse> {
        self.post(
            &format!("/api/v1/licences/{licence_id}/move"),
            &MoveRequest {
                device_id: device_id.to_owned(),
            },
        )
        .await
    }

    /// The torrent file of a title.
    pub async fn torrent(&self, title_id: &str) -> Result<Vec<u8>> {
        let url = format!("{}/api/v1/titles/{title_id}/torrent", self.base);
        Ok(self.send_raw(self.http.get(url)).await?.to_vec())
    }
}
