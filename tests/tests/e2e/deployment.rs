//! The deployment decides where the app's server is: a crafted link naming
//! another server gets neither the saved token nor a login unless the user
//! confirms it. Logging out on a shared computer can remove the messages.

use penpen_e2e::app::{ZHANG, local_databases, log_in, remembered_session};
use penpen_e2e::evil::Decoy;
use penpen_e2e::{Browser, Harness};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_link_gets_neither_the_saved_token_nor_a_login_unasked() -> anyhow::Result<()> {
    Harness::run("crafted_link", |harness| async move {
        let decoy = Decoy::start().await?;
        let browser = harness.open_app("zhang").await?;
        let crafted = format!(
            "{}?server=127.0.0.1&port_offset={}",
            harness.app_url,
            decoy.port_offset()
        );
        let outcome = check_crafted_link(&browser, &crafted, &decoy).await;
        browser.finish(outcome).await
    })
    .await
}

async fn check_crafted_link(browser: &Browser, crafted: &str, decoy: &Decoy) -> anyhow::Result<()> {
    log_in(browser, ZHANG).await?;
    let token = remembered_session(browser)
        .await?
        .and_then(|s| s["token"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no session was remembered"))?;

    // Signed in: the remembered session resumes with the server that issued
    // it, whatever the link says (the decoy never answers, so "connected"
    // also shows where the resume went).
    browser.goto(crafted).await?;
    browser.wait_for_text("#me-name", "张伟").await?;
    browser
        .wait_for_attribute("#connection", "data-state", "connected")
        .await?;
    let seen = decoy.seen();
    anyhow::ensure!(
        !seen.frames.iter().any(|f| f.contains(&token)),
        "the saved token reached the server named in the link: {seen:?}"
    );
    anyhow::ensure!(
        seen.connections.is_empty(),
        "the app connected to the server named in the link: {seen:?}"
    );

    // Signed out: the link's server is shown, with its host, and not used
    // until the user accepts it.
    browser.click("#logout").await?;
    browser.click("#logout-keep").await?;
    browser.goto(crafted).await?;
    let decoy_label = format!("127.0.0.1:{}", 20888 + u32::from(decoy.port_offset()));
    browser
        .wait_for_text("#server-proposal", &decoy_label)
        .await?;
    browser
        .wait_for_text("#server-proposal", "另一台服务器")
        .await?;
    let home = browser.text("#login-server").await?;
    anyhow::ensure!(
        !home.contains(&decoy_label),
        "the login screen uses the link's server before it was accepted: {home}"
    );
    browser.type_into("#login-account", ZHANG).await?;
    browser
        .type_into("#login-password", penpen_e2e::app::PASSWORD)
        .await?;
    browser.click("#login-submit").await?;
    browser
        .wait_for_attribute("#connection", "data-state", "connected")
        .await?;
    anyhow::ensure!(
        decoy.seen().connections.is_empty(),
        "a login went to the link's server before it was accepted: {:?}",
        decoy.seen()
    );

    // Accepted, the link's server gets the login (and only the new one).
    browser.click("#logout").await?;
    browser.click("#logout-keep").await?;
    browser.goto(crafted).await?;
    browser.click("#server-proposal-accept").await?;
    browser.wait_for_text("#login-server", &decoy_label).await?;
    browser.type_into("#login-account", ZHANG).await?;
    browser
        .type_into("#login-password", penpen_e2e::app::PASSWORD)
        .await?;
    browser.click("#login-submit").await?;
    let deadline = tokio::time::Instant::now() + penpen_e2e::WAIT;
    while decoy.seen().frames.is_empty() {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the accepted server never got the login"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = decoy.seen();
    anyhow::ensure!(
        !seen.frames.iter().any(|f| f.contains(&token)),
        "an old token reached the accepted server: {seen:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_can_remove_this_devices_messages() -> anyhow::Result<()> {
    Harness::run("logout_remove", |harness| async move {
        let browser = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&browser, ZHANG).await?;
            let databases = local_databases(&browser).await?;
            anyhow::ensure!(
                databases.len() == 1 && databases[0].ends_with(ZHANG),
                "one database for the account was expected: {databases:?}"
            );

            browser.click("#logout").await?;
            browser.wait_for_text("#logout-dialog", "保留").await?;
            // Cancelled, nothing happens.
            browser.click("#logout-cancel").await?;
            browser.wait_for_count("#logout-dialog", 0).await?;
            browser.wait_for_text("#me-name", "张伟").await?;

            browser.click("#logout").await?;
            browser.click("#logout-remove").await?;
            browser.wait_for_text("#login-submit", "登录").await?;
            let deadline = tokio::time::Instant::now() + penpen_e2e::WAIT;
            loop {
                let left = local_databases(&browser).await?;
                if left.is_empty() {
                    break;
                }
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "the account's database is still there: {left:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::ensure!(
                remembered_session(&browser).await?.is_none(),
                "the session is still remembered"
            );
            Ok(())
        }
        .await;
        browser.finish(outcome).await
    })
    .await
}
