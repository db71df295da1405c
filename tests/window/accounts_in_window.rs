//! A person's own account on a store running as its own process, in the window: sign up, top
//! the wallet up with a voucher, rent and watch, see the receipt, sign out, sign in again and
//! watch again with no new charge; the session survives a restart.
//!
//! Saves `target/e2e/sign-in.png` and `target/e2e/account.png` (the README shows both).

use std::process::Command;
use std::time::Duration;

use fantoccini::Client;

use crate::common::*;

const TITLE: &str = "neon-harbor";
const PRICE_CENTS: i64 = 400;
const EMAIL: &str = "viewer@example.com";
const PASSWORD: &str = "a long password";

/// Mints a voucher worth 10.00 with `marquee-store voucher create`, as an operator would.
fn mint_voucher(data: &std::path::Path) -> String {
    let out = Command::new(store_bin())
        .args(["voucher", "create", "--value", "10.00", "--data"])
        .arg(data)
        .output()
        .expect("marquee-store runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Fills the sign-in form and sends it; waits for the account page.
async fn sign_in(c: &Client) {
    sign_in_as(c, EMAIL, PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_top_up_rent_sign_out_and_in_against_a_store_process() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let data = tempfile::tempdir().unwrap();
    let store = start_store_process(data.path());
    let url = store.url();
    let code = mint_voucher(data.path());
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch_with(&display, profile.path(), &[], Some(url)).await;

    // A store on a network: nobody is signed in, and the top bar says so.
    poll(
        &c,
        "the Sign in button",
        "const b = document.querySelector('[data-testid=account-open]');
         return b && b.innerText.trim() === 'Sign in';",
        Duration::from_secs(180),
    )
    .await;
    click(&c, "[data-testid=account-open]").await;
    poll(
        &c,
        "the sign-in form",
        "return document.querySelector('[data-testid=sign-in]') !== null;",
        Duration::from_secs(10),
    )
    .await;
    // A wrong password is said in words, on the form.
    type_into(&c, "[data-testid=account-email]", EMAIL).await;
    type_into(&c, "[data-testid=account-password]", "not the password").await;
    click(&c, "[data-testid=account-submit]").await;
    let kind = poll(
        &c,
        "the refusal",
        "const e = document.querySelector('[data-testid=account-error]'); return e ? e.dataset.errorKind : null;",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(kind, "wrong_password");
    screenshot(&c, "the sign-in form to settle", &out, "sign-in.png").await;

    // Sign up.
    click(&c, "[data-testid=account-mode]").await;
    sign_in(&c).await;

    // Redeem the voucher.
    type_into(&c, "[data-testid=voucher-code]", &code).await;
    click(&c, "[data-testid=voucher-redeem]").await;
    let topped = wallet_cents_change(&c, 0).await;
    assert_eq!(topped, 1000);

    // Rent and watch.
    click(&c, "[data-testid=tab-store]").await;
    rent(&c, TITLE).await;
    assert_plays(&c).await;
    let after = assert_charged(&c, topped, PRICE_CENTS).await;
    click(&c, "[data-testid=player-back]").await;
    // Back from the player: close the detail sheet if it is still there.
    poll(
        &c,
        "the detail sheet to close",
        "const close = document.querySelector('[data-testid=title-detail] button.close');
         if (close) { close.click(); return null; }
         return document.querySelector('[data-testid=player]') === null;",
        Duration::from_secs(10),
    )
    .await;

    // The receipt, on the account page.
    click(&c, "[data-testid=account-open]").await;
    poll(
        &c,
        "the receipt and this computer",
        &format!(
            "const r = document.querySelector('[data-testid=receipt][data-title-id={TITLE}]');
             const d = document.querySelector('[data-testid=device][data-this-device=true]');
             return r !== null && r.dataset.amountCents === '{PRICE_CENTS}' && d !== null;"
        ),
        Duration::from_secs(30),
    )
    .await;
    screenshot(&c, "the account page to settle", &out, "account.png").await;

    // A restart keeps the session: still signed in, same wallet.
    c.close().await.unwrap();
    drop(driver);
    let (driver, c) = launch_with(&display, profile.path(), &[], Some(url)).await;
    assert_eq!(
        wallet_cents(&c).await,
        after,
        "the restart kept the session"
    );

    // Sign out, then in again: the rental plays with no new charge.
    click(&c, "[data-testid=account-open]").await;
    click(&c, "[data-testid=account-sign-out]").await;
    poll(
        &c,
        "signed out",
        "const b = document.querySelector('[data-testid=account-open]');
         return document.querySelector('[data-testid=sign-in]') !== null && b && b.innerText.trim() === 'Sign in';",
        Duration::from_secs(30),
    )
    .await;
    sign_in(&c).await;
    click(&c, "[data-testid=tab-library]").await;
    watch_again(&c, TITLE, after).await;

    // A new password (this computer stays signed in), then signing out everywhere.
    click(&c, "[data-testid=player-back]").await;
    click(&c, "[data-testid=account-open]").await;
    type_into(&c, "[data-testid=password-current]", PASSWORD).await;
    type_into(&c, "[data-testid=password-new]", "a newer password").await;
    click(&c, "[data-testid=password-change]").await;
    poll(
        &c,
        "the password changed",
        "const t = document.querySelector('[data-testid=toast]');
         return t && t.innerText.includes('Password changed')
           && document.querySelector('[data-testid=account-signed-in]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    screenshot(
        &c,
        "the security card to settle",
        &out,
        "account-security.png",
    )
    .await;
    // The question is the browser's own dialog: answered yes.
    c.execute("window.confirm = () => true;", vec![])
        .await
        .unwrap();
    click(&c, "[data-testid=sign-out-everywhere]").await;
    poll(
        &c,
        "signed out everywhere",
        "return document.querySelector('[data-testid=sign-in]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    c.close().await.unwrap();
    drop(driver);
}
