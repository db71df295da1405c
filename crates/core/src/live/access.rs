//! The store's side of live channels, for watching and broadcasting alike: the directory's
//! listing, the addresses a node listens on and tells, and what the directory's refusals mean
//! for a person. A leaf: it imports nothing of the live domain's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use marquee_live::directory::DirectoryError;
use marquee_protocol::channels::ChannelsResponse;
use marquee_protocol::{ClientError, StoreClient};

use crate::{Error, Result};

/// The store a node of this profile lists or finds channels in.
#[derive(Clone)]
pub(crate) struct StoreSide {
    pub(crate) store: StoreClient,
    /// The store is on this computer: nodes talk to loopback peers only.
    pub(crate) local: bool,
}

impl StoreSide {
    pub(crate) fn new(store: StoreClient, store_url: &str) -> StoreSide {
        StoreSide {
            store,
            local: crate::torrents::store_on_this_computer(store_url),
        }
    }

    /// The store's directory: the channels live now and the relay server, if any.
    pub(crate) async fn listing(&self) -> Result<ChannelsResponse> {
        self.store.channels().await.map_err(|e| match e {
            ClientError::Refused { status: 404, .. } | ClientError::Refused { status: 405, .. } => {
                Error::LiveNotOffered
            }
            other => other.into(),
        })
    }

    /// Where the node listens, and the address peers are told: loopback for a store on this
    /// computer; otherwise every interface, advertised at the address this computer reaches
    /// the store from.
    pub(crate) async fn addresses(&self) -> Result<(SocketAddr, Option<SocketAddr>)> {
        if self.local {
            return Ok((SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), None));
        }
        let ip = outgoing_ip(self.store.base()).await.ok_or_else(|| {
            Error::LiveUnavailable(
                "this computer has no network address the store's other viewers could reach".into(),
            )
        })?;
        Ok((
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            Some((ip, 0).into()),
        ))
    }
}

/// The address this computer sends from to reach `base_url`'s host (no packet is sent: a
/// connected UDP socket only asks the routing table).
async fn outgoing_ip(base_url: &str) -> Option<IpAddr> {
    let url = reqwest::Url::parse(base_url).ok()?;
    let host = url.host_str()?.to_owned();
    let port = url.port_or_known_default()?;
    let target = tokio::net::lookup_host((host.as_str(), port))
        .await
        .ok()?
        .next()?;
    let bind: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = tokio::net::UdpSocket::bind(bind).await.ok()?;
    socket.connect(target).await.ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// What the directory's failures mean for a person about to watch.
pub(crate) fn directory_error(e: DirectoryError) -> Error {
    match e {
        DirectoryError::Store(ClientError::Refused { status: 404, .. }) => Error::LiveEnded,
        DirectoryError::Store(ClientError::Refused { status: 405, .. }) => Error::LiveNotOffered,
        DirectoryError::Store(e) => e.into(),
        DirectoryError::Forged(why) => Error::LiveUnavailable(format!(
            "the store handed a channel that its broadcaster did not sign ({why})"
        )),
        other => Error::LiveUnavailable(other.to_string()),
    }
}
