//! Signing licences and the one-PC rules, shared by orders and the licences' routes (no routes
//! here). A licence is signed for one device's current key; a purchase plays on one computer of
//! the account at a time; a retry, a restore or a reinstall gets back what the account already
//! holds instead of a second licence.

use marquee_licence::licence::{wrap_content_key, Licence, LicenceKind};
use marquee_licence::{ContentKey, DeviceId, RentalRules};
use rand::RngCore;

use super::shared::check_device_id;
use crate::api::*;
use crate::db;
use crate::error::StoreError;

/// A licence the store signed, read back (its device key, its rules).
fn read_licence(s: &crate::State, bytes: &[u8]) -> Result<Licence, StoreError> {
    marquee_licence::SignedLicence::from_bytes(bytes.to_vec())
        .and_then(|l| l.verify(&s.signing_key.verifying_key()))
        .map_err(|e| StoreError::Internal(format!("a stored licence does not verify: {e}")))
}

/// A live licence on `device`, for its current key. When the key changed (a reinstall on the
/// same computer, or another machine presenting the same device id with its own key), the
/// licence is issued again under a new id, with the same kind, issue time and first frame (a
/// rental's window does not move), and the old id is revoked: whatever still holds the old key
/// stops playing at its next sync. Re-wrapping under the old id would have left two copies of
/// one licence playing, one on each machine.
pub(super) async fn for_current_key(
    s: &crate::State,
    held: &db::licences::HeldLicence,
    device: &db::devices::DeviceRecord,
) -> Result<Vec<u8>, StoreError> {
    let licence = read_licence(s, &held.bytes)?;
    if licence.device_public_key == device.public_key {
        return Ok(held.bytes.clone());
    }
    let title = db::catalog::title(&s.db, &held.title_id).await?;
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let bytes = issue_licence(
        s,
        &title,
        licence.device_id,
        device.public_key,
        licence.kind,
        id,
        licence.issued_at,
    )?;
    let new = db::licences::NewLicence {
        id: hex::encode(id),
        kind: licence.kind.as_str(),
        issued_at: licence.issued_at,
        first_frame_at: held.first_frame_at,
        bytes: bytes.clone(),
    };
    db::licences::supersede(&s.db, &[held], new, &held.device_id).await?;
    tracing::info!(old = %held.id, "licence issued again under a new id for a new device key");
    Ok(bytes)
}

/// After `device_id` registered a new key: every live licence on it issued again for that key
/// under a new id, the old ids revoked. How many were.
pub(super) async fn reissue_for_new_key(
    s: &crate::State,
    account: i64,
    device_id: &str,
) -> Result<usize, StoreError> {
    let device = db::devices::device(&s.db, account, device_id).await?;
    let held = db::licences::licences_of_account(&s.db, account).await?;
    let mut reissued = 0;
    for l in held
        .iter()
        .filter(|l| !l.revoked && l.device_id == device_id)
    {
        for_current_key(s, l, &device).await?;
        reissued += 1;
    }
    Ok(reissued)
}

/// The kind of licence an offer gets.
pub(super) fn licence_kind(offer: OfferKind) -> LicenceKind {
    match offer {
        OfferKind::Rent => LicenceKind::Rent,
        OfferKind::Buy => LicenceKind::Buy,
        OfferKind::Free => LicenceKind::Free,
    }
}

/// Signs a licence of `title` for a device.
pub(super) fn issue_licence(
    s: &crate::State,
    title: &db::catalog::TitleRecord,
    device_id: DeviceId,
    device_public: [u8; 32],
    kind: LicenceKind,
    licence_id: [u8; 16],
    issued_at: i64,
) -> Result<Vec<u8>, StoreError> {
    let key: [u8; 32] = title
        .content_key
        .as_deref()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| StoreError::Internal("title has no content key".into()))?;
    let commitment: [u8; 32] = title
        .key_commitment
        .as_deref()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| StoreError::Internal("title has no key commitment".into()))?;
    let licence = Licence {
        licence_id,
        title_id: title.id.clone(),
        device_id,
        device_public_key: device_public,
        kind,
        issued_at,
        rules: (kind == LicenceKind::Rent).then(RentalRules::default),
        key_commitment: commitment,
        wrapped_key: wrap_content_key(
            &ContentKey::from_bytes(key),
            &device_public,
            &licence_id,
            &title.id,
        ),
    };
    Ok(licence.sign(&s.signing_key).into_bytes())
}

/// A fresh licence of a purchase for `device`, to supersede the account's earlier ones.
pub(super) fn new_purchase_licence(
    s: &crate::State,
    title: &db::catalog::TitleRecord,
    device_id: DeviceId,
    device: &db::devices::DeviceRecord,
) -> Result<db::licences::NewLicence<'static>, StoreError> {
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let issued_at = s.now();
    Ok(db::licences::NewLicence {
        id: hex::encode(id),
        kind: LicenceKind::Buy.as_str(),
        issued_at,
        first_frame_at: None,
        bytes: issue_licence(
            s,
            title,
            device_id,
            device.public_key,
            LicenceKind::Buy,
            id,
            issued_at,
        )?,
    })
}

/// True while a rental can still play: before its start deadline, and within its window once
/// started.
fn rental_open(l: &db::licences::HeldLicence, now: i64) -> bool {
    let rules = RentalRules::default();
    let start_by = l.issued_at.saturating_add(rules.start_within_s as i64);
    match l.first_frame_at {
        None => now < start_by,
        Some(first) => first < start_by && now < first.saturating_add(rules.play_window_s as i64),
    }
}

/// What the account already holds of a title for `device`, decided by the store so a client
/// cannot get a second computer playing one purchase, nor pay twice for what it holds:
/// - a purchase live on this computer is handed back (issued again after a reinstall);
/// - a purchase live on another computer is refused unless the order says "move it here",
///   which revokes the other computer's licence;
/// - a purchase that plays nowhere (its computer was deactivated) is re-issued here;
/// - a rental rented on this computer and still in its window is handed back; a rental on
///   another computer never moves, so renting here is a new rental.
///
/// - another variant of the same work (SD for HD, or HD for SD) rented or bought on this
///   computer opens this one too: see [`variant_held_here`].
///
/// `None`: nothing held, the order is charged as new.
pub(super) async fn already_held(
    s: &crate::State,
    account: i64,
    title: &db::catalog::TitleRecord,
    req: &OrderRequest,
    device: &db::devices::DeviceRecord,
) -> Result<Option<(String, Vec<u8>, Option<i64>)>, StoreError> {
    if let Some(held) = held_of_title(s, account, title, req, device).await? {
        return Ok(Some(held));
    }
    variant_held_here(s, account, title, req, device).await
}

/// One purchase or rental of a work opens each of its variants: the other quality is licensed
/// to this computer without a charge, under the same order (so moving the purchase to another
/// computer takes every variant with it, see [`db::licences::supersede`]), with the same kind,
/// issue time and first frame (a rental's window is the rental's, whichever variant plays; the
/// first frame of either starts it, see [`db::licences::set_first_frame`]). Only what plays on
/// this computer counts: a rental still open here (a rental never moves), a purchase live here.
/// A purchase live on another computer is refused as [`StoreError::LicensedElsewhere`], as the
/// variant bought would be; asked to move here, the purchase moves first (every variant of it
/// leaves the other computer) and this variant is licensed beside it.
async fn variant_held_here(
    s: &crate::State,
    account: i64,
    title: &db::catalog::TitleRecord,
    req: &OrderRequest,
    device: &db::devices::DeviceRecord,
) -> Result<Option<(String, Vec<u8>, Option<i64>)>, StoreError> {
    if title.offer == OfferKind::Free {
        return Ok(None);
    }
    let kind = licence_kind(title.offer);
    let now = s.now();
    for sibling in db::catalog::other_variants(&s.db, &title.id).await? {
        let mut held = db::licences::licences_of_title(&s.db, account, &sibling).await?;
        let live_elsewhere: Vec<&db::licences::HeldLicence> = held
            .iter()
            .filter(|l| l.kind == LicenceKind::Buy.as_str() && !l.revoked)
            .collect();
        if kind == LicenceKind::Buy
            && !live_elsewhere.is_empty()
            && live_elsewhere.iter().all(|l| l.device_id != req.device_id)
        {
            if !req.move_here {
                return Err(StoreError::LicensedElsewhere(
                    db::catalog::title_name(&s.db, &title.id).await?,
                ));
            }
            let bought = db::catalog::title(&s.db, &sibling).await?;
            let moved = new_purchase_licence(s, &bought, check_device_id(&req.device_id)?, device)?;
            db::licences::supersede(&s.db, &live_elsewhere, moved, &req.device_id).await?;
            tracing::info!(title = %sibling, "purchase moved here to license another variant of it");
            held = db::licences::licences_of_title(&s.db, account, &sibling).await?;
        }
        let Some(here) = held.iter().find(|l| {
            l.kind == kind.as_str()
                && !l.revoked
                && l.device_id == req.device_id
                && (kind != LicenceKind::Rent || rental_open(l, now))
        }) else {
            continue;
        };
        let device_id = check_device_id(&req.device_id)?;
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let bytes = issue_licence(
            s,
            title,
            device_id,
            device.public_key,
            kind,
            id,
            here.issued_at,
        )?;
        let new = db::licences::NewLicence {
            id: hex::encode(id),
            kind: kind.as_str(),
            issued_at: here.issued_at,
            first_frame_at: here.first_frame_at,
            bytes: bytes.clone(),
        };
        db::licences::add_to_order(&s.db, &new, &here.order_id, &title.id, &req.device_id).await?;
        tracing::info!(title = %title.id, variant_of = %sibling, "another variant of a held work licensed without a charge");
        return Ok(Some((here.order_id.clone(), bytes, here.first_frame_at)));
    }
    Ok(None)
}

/// What the account holds of this very title (not of its other variants).
async fn held_of_title(
    s: &crate::State,
    account: i64,
    title: &db::catalog::TitleRecord,
    req: &OrderRequest,
    device: &db::devices::DeviceRecord,
) -> Result<Option<(String, Vec<u8>, Option<i64>)>, StoreError> {
    let held = db::licences::licences_of_title(&s.db, account, &title.id).await?;
    let device_id = check_device_id(&req.device_id)?;
    match title.offer {
        OfferKind::Free => Ok(None),
        OfferKind::Rent => {
            let now = s.now();
            match held.iter().find(|l| {
                l.kind == LicenceKind::Rent.as_str()
                    && !l.revoked
                    && l.device_id == req.device_id
                    && rental_open(l, now)
            }) {
                Some(l) => Ok(Some((
                    l.order_id.clone(),
                    for_current_key(s, l, device).await?,
                    l.first_frame_at,
                ))),
                None => Ok(None),
            }
        }
        OfferKind::Buy => {
            let bought: Vec<&db::licences::HeldLicence> = held
                .iter()
                .filter(|l| l.kind == LicenceKind::Buy.as_str())
                .collect();
            let live: Vec<&db::licences::HeldLicence> =
                bought.iter().copied().filter(|l| !l.revoked).collect();
            if let Some(here) = live.iter().find(|l| l.device_id == req.device_id) {
                return Ok(Some((
                    here.order_id.clone(),
                    for_current_key(s, here, device).await?,
                    None,
                )));
            }
            let superseded = match (live.is_empty(), bought.first()) {
                (_, None) => return Ok(None),
                // Owned, playing nowhere: the newest licence is the one to supersede.
                (true, Some(newest)) => vec![*newest],
                (false, Some(_)) if req.move_here => live,
                (false, Some(_)) => {
                    return Err(StoreError::LicensedElsewhere(
                        db::catalog::title_name(&s.db, &title.id).await?,
                    ))
                }
            };
            let new = new_purchase_licence(s, title, device_id, device)?;
            let bytes = new.bytes.clone();
            db::licences::supersede(&s.db, &superseded, new, &req.device_id).await?;
            tracing::info!(title = %title.id, "purchase licensed to another computer of the account");
            Ok(Some((superseded[0].order_id.clone(), bytes, None)))
        }
    }
}
