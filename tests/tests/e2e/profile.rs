//! The "me" tab against the real server, with colleagues in other browsers:
//! a signature and a busy status reach them, and a password change signs
//! out the user's other sessions.

use penpen_e2e::Harness;
use penpen_e2e::app::{PASSWORD, WANG, ZHANG, log_in, log_in_with, screenshots};

fn contact(user: &str) -> String {
    format!("#directory .contact[data-user=\"{user}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_and_a_busy_status_reach_colleagues() -> anyhow::Result<()> {
    Harness::run("profile_signature", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            zhang.click("#tab-contacts").await?;
            zhang
                .wait_for_attribute(&contact(WANG), "data-presence", "online")
                .await?;

            wang.click("#tab-me").await?;
            wang.wait_for_text("#me .me__name", "王建国").await?;
            wang.type_into("#signature-input", "本周在深圳出差 ✈️")
                .await?;
            wang.click("#signature-save").await?;
            wang.wait_for_attribute("#signature-status", "data-state", "done")
                .await?;
            zhang
                .wait_for_text(
                    &format!("{} .contact__signature", contact(WANG)),
                    "本周在深圳出差 ✈️",
                )
                .await?;

            wang.click("#busy-toggle").await?;
            zhang
                .wait_for_attribute(&contact(WANG), "data-presence", "busy")
                .await?;
            screenshots(&wang, "me").await?;
            screenshots(&zhang, "directory").await?;

            // The contact's page shows it too, fetched afresh.
            zhang
                .click(&format!("{} .contact__open", contact(WANG)))
                .await?;
            zhang
                .wait_for_text("#contact-signature", "本周在深圳出差 ✈️")
                .await?;
            zhang
                .wait_for_attribute("#contact-presence", "data-presence", "busy")
                .await?;
            screenshots(&zhang, "contact").await?;

            // Back to available; and the signature survives a reload.
            wang.click("#busy-toggle").await?;
            zhang
                .wait_for_attribute("#contact-presence", "data-presence", "online")
                .await?;
            wang.goto(&harness.app_url).await?;
            wang.click("#tab-me").await?;
            let kept = wang
                .script("return document.querySelector('#signature-input').value;")
                .await?;
            anyhow::ensure!(
                kept == serde_json::json!("本周在深圳出差 ✈️"),
                "the signature field shows {kept} after a reload"
            );
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_signs_out_the_other_sessions() -> anyhow::Result<()> {
    Harness::run("profile_password", |harness| async move {
        let laptop = harness.open_app("zhang-laptop").await?;
        let phone = harness.open_app("zhang-phone").await?;
        let outcome = async {
            log_in(&laptop, ZHANG).await?;
            log_in(&phone, ZHANG).await?;
            laptop.click("#tab-me").await?;

            // Checked in the browser first, then by the server.
            laptop.type_into("#password-current", PASSWORD).await?;
            laptop.type_into("#password-new", "新密码2027").await?;
            laptop.type_into("#password-confirm", "新密码2028").await?;
            laptop.click("#password-save").await?;
            laptop
                .wait_for_text("#password-status", "两次输入的新密码不一致")
                .await?;
            laptop.type_into("#password-current", "不是这个").await?;
            laptop.type_into("#password-confirm", "新密码2027").await?;
            laptop.click("#password-save").await?;
            laptop
                .wait_for_text("#password-status", "当前密码不正确")
                .await?;
            laptop.type_into("#password-current", PASSWORD).await?;
            laptop.click("#password-save").await?;
            laptop
                .wait_for_attribute("#password-status", "data-state", "done")
                .await?;

            // The phone is signed out; this session goes on.
            phone.wait_for_text("#login-error", "登录已失效").await?;
            laptop
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            // The old password no longer works; the new one does.
            phone.type_into("#login-account", ZHANG).await?;
            phone.type_into("#login-password", PASSWORD).await?;
            phone.click("#login-submit").await?;
            phone
                .wait_for_text("#login-error", "账号或密码错误")
                .await?;
            log_in_with(&phone, ZHANG, "新密码2027").await?;
            Ok(())
        }
        .await;
        let outcome = laptop.finish(outcome).await;
        phone.finish(outcome).await
    })
    .await
}
