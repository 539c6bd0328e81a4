//! The app loads in a real browser and its login screen checks what is typed.

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
