//! The app loads in a real browser; its login screen checks what is typed,
//! logs in against the real server, remembers the session across a reload,
//! and logs out.

use penpen_e2e::{Browser, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_screen_shows_in_chinese_and_refuses_a_malformed_account() -> anyhow::Result<()> {
    Harness::run("login_screen", |harness| async move {
        let browser = harness.open_app("alice").await?;
        let outcome = check_login_screen(&browser).await;
        browser.finish(outcome).await
    })
    .await
}

async fn check_login_screen(browser: &Browser) -> anyhow::Result<()> {
    browser.wait_for_text("#login-submit", "登录").await?;
    anyhow::ensure!(browser.page_language().await? == "zh-CN");

    browser.type_into("#login-account", "1380000").await?;
    browser.type_into("#login-password", "secret").await?;
    browser.click("#login-submit").await?;
    browser
        .wait_for_text("#login-error", "账号格式不正确")
        .await?;

    browser.click("#switch-language").await?;
    browser.wait_for_text("#login-submit", "Log in").await?;
    anyhow::ensure!(browser.page_language().await? == "en");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_logs_in_stays_signed_in_across_a_reload_and_logs_out() -> anyhow::Result<()> {
    Harness::run("login_flow", |harness| async move {
        let browser = harness.open_app("zhang").await?;
        let outcome = check_login_flow(&browser, &harness.app_url).await;
        browser.finish(outcome).await
    })
    .await
}

async fn check_login_flow(browser: &Browser, app_url: &str) -> anyhow::Result<()> {
    browser.type_into("#login-account", "13800000003").await?;
    browser
        .type_into("#login-password", "wrong password")
        .await?;
    browser.click("#login-submit").await?;
    browser
        .wait_for_text("#login-error", "账号或密码错误")
        .await?;

    browser.type_into("#login-password", "penpen2026").await?;
    browser.click("#login-submit").await?;
    browser.wait_for_text("#me-name", "张伟").await?;

    browser.goto(app_url).await?;
    browser.wait_for_text("#me-name", "张伟").await?;

    // Logging out asks whether to keep this device's messages; kept, the
    // account's database stays (the session does not).
    browser.click("#logout").await?;
    browser.click("#logout-keep").await?;
    browser.wait_for_text("#login-submit", "登录").await?;
    anyhow::ensure!(
        !penpen_e2e::app::local_databases(browser).await?.is_empty(),
        "keeping the messages removed the database"
    );
    browser.goto(app_url).await?;
    browser.wait_for_text("#login-submit", "登录").await?;
    Ok(())
}
