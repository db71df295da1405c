//! Accounts: signing up, in and out against the store; the session kept between runs (see
//! [`vault`]); this computer's registration with the account; and the account page's wallet,
//! vouchers, receipts and computers.
//!
//! Signing in is not needed to open the app: the catalog is public. Renting, buying, the
//! account page and publishing need a session ([`Accounts::require`]).

pub mod vault;

use std::sync::{Arc, RwLock};

use marquee_protocol::StoreClient;

use crate::api::{
    AccountDevice, AccountInfo, AccountOverview, AccountReceipt, AppError, SessionVaultKind, Wallet,
};
use crate::error::{Error, Result};
use crate::identity::Identity;
use vault::{KeptSession, SessionVault};

/// Who is signed in on this profile, and whether this computer is registered.
#[derive(Default)]
struct Signed {
    email: Option<String>,
    registered: bool,
    problem: Option<AppError>,
}

/// The account side of the core.
pub(crate) struct Accounts {
    store: StoreClient,
    identity: Arc<Identity>,
    vault: SessionVault,
    /// The demo account signed in at every start (the embedded demo store, tests).
    automatic: Option<(String, String)>,
    demo_store: bool,
    signed: RwLock<Signed>,
}

impl Accounts {
    pub(crate) fn new(
        store: StoreClient,
        identity: Arc<Identity>,
        vault: SessionVault,
        automatic: Option<(String, String)>,
    ) -> Accounts {
        Accounts {
            store,
            identity,
            vault,
            demo_store: automatic.is_some(),
            automatic,
            signed: RwLock::new(Signed::default()),
        }
    }

    /// The sign-in at start: the demo account (once the store answers, when offline now), else
    /// the kept session, taken up without asking the store when offline. Returns true when the
    /// store refused the kept session.
    pub(crate) async fn start(&self, online: bool) -> Result<bool> {
        match &self.automatic {
            Some((email, password)) if online => {
                self.sign_in_automatically(email, password).await?;
                Ok(false)
            }
            Some(_) => Ok(false),
            None if online => self.resume().await,
            None => {
                self.resume_offline();
                Ok(false)
            }
        }
    }

    /// Signs in with the kept session, if there is one the store still accepts. Offline, the
    /// session is kept and used (the store checks it at the next call). Returns true when the
    /// store refused the kept session (it expired, or this computer was deactivated).
    pub(crate) async fn resume(&self) -> Result<bool> {
        if !self.resume_offline() {
            return Ok(false);
        }
        match self.register().await {
            Err(Error::SignInRequired(_)) => {
                self.forget()?;
                Ok(true)
            }
            Err(Error::StoreUnreachable(_)) | Ok(()) => Ok(false),
            // Signed in, but this computer is not registered (the device limit): the account
            // page says why and lets the person free a slot.
            Err(_) => Ok(false),
        }
    }

    /// Takes up the kept session without asking the store (offline): the store checks it once
    /// it answers ([`Accounts::reconnected`]). False when no session was kept.
    pub(crate) fn resume_offline(&self) -> bool {
        let Some(kept) = self.vault.load() else {
            return false;
        };
        self.store.set_token(Some(kept.token.clone()));
        self.set_email(Some(kept.email));
        true
    }

    /// The store answers again: signs the demo account in if it could not at the start, or
    /// registers this computer with the kept session. Fails when the store does not answer;
    /// returns true when it refused the kept session (which is then forgotten).
    pub(crate) async fn reconnected(&self) -> Result<bool> {
        if let (Some((email, password)), None) = (&self.automatic, self.store.token()) {
            self.sign_in_automatically(email, password).await?;
            return Ok(false);
        }
        let registered = self.signed.read().expect("account lock").registered;
        if self.store.token().is_none() || registered {
            return Ok(false);
        }
        match self.register().await {
            Err(Error::SignInRequired(_)) => {
                self.forget()?;
                Ok(true)
            }
            Err(e @ Error::StoreUnreachable(_)) => Err(e),
            // The device limit: the account page says why.
            Ok(()) | Err(_) => Ok(false),
        }
    }

    /// Signs in with a password; the password itself is never kept.
    pub(crate) async fn sign_in(&self, email: &str, password: &str) -> Result<AccountInfo> {
        let session = match self.store.sign_in(email.trim(), password).await {
            Ok(s) => s,
            Err(marquee_protocol::ClientError::Refused {
                code: marquee_protocol::api::ErrorCode::Unauthorized,
                ..
            }) => return Err(Error::WrongPassword),
            Err(e) => return Err(e.into()),
        };
        self.signed_in(email, session).await
    }

    /// Creates an account and signs in to it.
    pub(crate) async fn sign_up(&self, email: &str, password: &str) -> Result<AccountInfo> {
        let session = self.store.sign_up(email.trim(), password).await?;
        self.signed_in(email, session).await
    }

    async fn signed_in(
        &self,
        email: &str,
        session: marquee_protocol::api::SessionResponse,
    ) -> Result<AccountInfo> {
        let email = email.trim().to_lowercase();
        self.vault.save(&KeptSession {
            email: email.clone(),
            token: session.token,
            expires_at: session.expires_at,
        })?;
        self.set_email(Some(email.clone()));
        tracing::info!(%email, "signed in");
        // A computer the account cannot register (the device limit) still signs in: the
        // account page lists the computers so the person can free a slot.
        if let Err(e) = self.register().await {
            tracing::warn!(error = %e, "registering this computer");
        }
        Ok(self.info())
    }

    /// Signs in with the demo account (the embedded demo store, and tests). Not kept: it signs
    /// in again at every start.
    pub(crate) async fn sign_in_automatically(&self, email: &str, password: &str) -> Result<()> {
        self.store.sign_in(email, password).await?;
        self.set_email(Some(email.to_owned()));
        self.register().await
    }

    /// Registers this computer (its key, its publishing key) with the signed-in account.
    pub(crate) async fn register(&self) -> Result<()> {
        let done = self
            .store
            .register_device(
                &self.identity.device_id.to_hex(),
                &self.identity.keys.public_key(),
                &self
                    .identity
                    .keys
                    .publisher_key()
                    .verifying_key()
                    .to_bytes(),
            )
            .await
            .map_err(Error::from);
        let mut signed = self.signed.write().expect("account lock");
        signed.registered = done.is_ok();
        signed.problem = match &done {
            Ok(()) | Err(Error::StoreUnreachable(_)) => None,
            Err(e) => Some(AppError::from(e)),
        };
        done
    }

    /// Signs out: the store ends the session, and this computer forgets it. Offline, the
    /// session is forgotten here all the same (it expires at the store).
    pub(crate) async fn sign_out(&self) -> Result<AccountInfo> {
        if let Err(e) = self.store.sign_out().await {
            tracing::warn!(error = %e, "ending the session at the store");
        }
        self.forget()?;
        Ok(self.info())
    }

    /// Ends every session of the account at the store, then forgets this one. Unlike signing
    /// out here, a store that does not answer is an error: the person must know whether the
    /// other sessions ended.
    pub(crate) async fn sign_out_everywhere(&self) -> Result<AccountInfo> {
        self.require()?;
        self.store.sign_out_everywhere().await?;
        tracing::info!("signed out everywhere");
        self.forget()?;
        Ok(self.info())
    }

    /// A new password: the store ends every other session; this one stays signed in.
    pub(crate) async fn change_password(&self, current: &str, new: &str) -> Result<()> {
        self.require()?;
        self.store.change_password(current, new).await?;
        tracing::info!("password changed; the account's other sessions ended");
        Ok(())
    }

    fn forget(&self) -> Result<()> {
        self.store.set_token(None);
        *self.signed.write().expect("account lock") = Signed::default();
        self.vault.clear()
    }

    fn set_email(&self, email: Option<String>) {
        self.signed.write().expect("account lock").email = email;
    }

    /// Who is signed in.
    pub(crate) fn info(&self) -> AccountInfo {
        let signed = self.signed.read().expect("account lock");
        AccountInfo {
            store_url: self.store.base().to_owned(),
            demo_store: self.demo_store,
            email: signed.email.clone(),
            device_registered: signed.registered,
            device_problem: signed.problem.clone(),
            session_vault: if self.demo_store {
                SessionVaultKind::NotKept
            } else {
                self.vault.kind()
            },
        }
    }

    /// Fails with [`Error::SignedOut`] unless someone is signed in.
    pub(crate) fn require(&self) -> Result<()> {
        match (self.store.token(), &self.automatic) {
            (Some(_), _) => Ok(()),
            // The demo account could not sign in yet: the store has not answered this run.
            (None, Some(_)) => Err(Error::StoreUnreachable("not signed in yet".into())),
            (None, None) => Err(Error::SignedOut),
        }
    }

    /// Fails unless signed in with this computer registered (renting, buying).
    pub(crate) async fn require_registered(&self) -> Result<()> {
        self.require()?;
        if self.signed.read().expect("account lock").registered {
            return Ok(());
        }
        self.register().await
    }

    /// The wallet.
    pub(crate) async fn wallet(&self) -> Result<Wallet> {
        self.require()?;
        let w = self.store.wallet().await?;
        Ok(Wallet {
            balance_cents: w.balance_cents,
            currency: w.currency,
        })
    }

    /// Tops the wallet up with a voucher code.
    pub(crate) async fn voucher_redeem(&self, code: &str) -> Result<Wallet> {
        self.require()?;
        let w = self.store.redeem_voucher(code.trim()).await?;
        tracing::info!("voucher redeemed");
        Ok(Wallet {
            balance_cents: w.balance_cents,
            currency: w.currency,
        })
    }

    /// The account page.
    pub(crate) async fn overview(&self) -> Result<AccountOverview> {
        self.require()?;
        let this = self.identity.device_id.to_hex();
        let (wallet, history, devices) = tokio::try_join!(
            self.wallet(),
            async { self.store.order_history().await.map_err(Error::from) },
            async { self.store.devices().await.map_err(Error::from) },
        )?;
        Ok(AccountOverview {
            account: self.info(),
            wallet,
            receipts: history
                .orders
                .into_iter()
                .map(|r| AccountReceipt {
                    this_device: r.device_id == this,
                    order_id: r.order_id,
                    title_id: r.title_id,
                    title_name: r.title_name,
                    offer: r.offer,
                    amount_cents: r.amount_cents,
                    currency: r.currency,
                    created_at_ms: r.created_at * 1000,
                    device_id: r.device_id,
                })
                .collect(),
            devices: devices
                .devices
                .into_iter()
                .map(|d| AccountDevice {
                    this_device: d.device_id == this,
                    device_id: d.device_id,
                    registered_at_ms: d.registered_at * 1000,
                    active: d.active,
                })
                .collect(),
            device_limit: devices.limit,
        })
    }

    /// Deactivates one of the account's computers: the store revokes its licences and ends its
    /// sessions. Deactivating this one signs out here.
    pub(crate) async fn device_deactivate(&self, device_id: &str) -> Result<AccountInfo> {
        self.require()?;
        self.store.deactivate_device(device_id).await?;
        if device_id == self.identity.device_id.to_hex() {
            self.forget()?;
        } else if !self.signed.read().expect("account lock").registered {
            // A slot is free now: this computer may register.
            self.register().await.ok();
        }
        Ok(self.info())
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// Who is signed in, on which store, and where the session is kept.
    pub fn account_get(&self) -> AccountInfo {
        self.accounts.info()
    }

    /// Signs in with an e-mail and password (never kept: only the session is), registers this
    /// computer, and learns the account's licence state for it.
    pub async fn account_sign_in(&self, email: &str, password: &str) -> Result<AccountInfo> {
        let info = self.accounts.sign_in(email, password).await?;
        self.after_sign_in().await;
        Ok(info)
    }

    /// Creates an account on the store and signs in to it.
    pub async fn account_sign_up(&self, email: &str, password: &str) -> Result<AccountInfo> {
        let info = self.accounts.sign_up(email, password).await?;
        self.after_sign_in().await;
        Ok(info)
    }

    async fn after_sign_in(&self) {
        if let Err(e) = self.licences_sync().await {
            tracing::warn!(error = %e, "checking licences after signing in");
        }
    }

    /// Signs out: the store ends the session and this computer forgets it. The library stays;
    /// renting and buying need a sign-in again.
    pub async fn account_sign_out(&self) -> Result<AccountInfo> {
        self.accounts.sign_out().await
    }

    /// Signs out on every computer: the store ends every session of the account, and this
    /// computer forgets its own.
    pub async fn account_sign_out_everywhere(&self) -> Result<AccountInfo> {
        self.accounts.sign_out_everywhere().await
    }

    /// A new password, given the current one: every other computer is signed out.
    pub async fn account_change_password(&self, current: &str, new: &str) -> Result<()> {
        self.accounts.change_password(current, new).await
    }

    /// The account page: wallet, receipts and the account's computers.
    pub async fn account_overview(&self) -> Result<AccountOverview> {
        self.accounts.overview().await
    }

    /// Tops the wallet up with a voucher code.
    pub async fn voucher_redeem(&self, code: &str) -> Result<Wallet> {
        self.accounts.voucher_redeem(code).await
    }

    /// Deactivates one of the account's computers: its licences are revoked and its sessions
    /// end (this one's too, when it is this computer).
    pub async fn device_deactivate(&self, device_id: &str) -> Result<AccountInfo> {
        self.accounts.device_deactivate(device_id).await
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}
