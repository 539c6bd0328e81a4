//! The words on screen: Chinese first, English second.

const LANG_KEY: &str = "penpen.lang";

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The remembered choice, else Chinese.
    pub fn load() -> Lang {
        let stored = gloo::utils::window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(LANG_KEY).ok().flatten());
        match stored.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// Remembers the choice for the next visit.
    pub fn save(self) {
        if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
            // Forgetting the language is harmless: the next visit starts in Chinese.
            let _ = storage.set_item(LANG_KEY, self.code());
        }
    }

    /// The BCP 47 code, for `<html lang>`.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub const fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The text for `key` in this language.
    pub const fn tr(self, key: Text) -> &'static str {
        let (zh, en) = match key {
            Text::AppName => ("penpen", "penpen"),
            Text::Tagline => (
                "企业即时通讯 · 消息永不丢失",
                "Enterprise messaging · no message is ever lost",
            ),
            Text::Account => ("账号", "Account"),
            Text::AccountHint => ("11 位手机号", "11-digit mobile number"),
            Text::Password => ("密码", "Password"),
            Text::PasswordHint => ("请输入密码", "Enter your password"),
            Text::LogIn => ("登录", "Log in"),
            Text::LoggingIn => ("正在登录…", "Logging in…"),
            Text::SwitchLanguage => ("English", "中文"),
            Text::ErrAccountFormat => (
                "账号格式不正确：应为 11 位数字的手机号",
                "That account is not valid: expected an 11-digit mobile number",
            ),
            Text::ErrPasswordEmpty => ("请输入密码", "Please enter your password"),
            Text::ErrWrongPassword => ("账号或密码错误", "Wrong account or password"),
            Text::ErrUnreachable => (
                "无法连接服务器，请检查网络后重试",
                "Cannot reach the server; check the network and try again",
            ),
            Text::ErrServer => ("服务器拒绝了请求", "The server refused the request"),
            Text::ErrRateLimited => (
                "尝试次数过多，请一分钟后再试",
                "Too many attempts; try again in a minute",
            ),
            Text::ErrSessionExpired => (
                "登录已失效，请重新登录",
                "Your session has ended; please log in again",
            ),
            Text::SignedIn => ("已登录", "Signed in"),
            Text::LogOut => ("退出登录", "Log out"),
            Text::LoggingOut => ("正在退出…", "Logging out…"),
        };
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Every piece of text the interface shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Text {
    AppName,
    Tagline,
    Account,
    AccountHint,
    Password,
    PasswordHint,
    LogIn,
    LoggingIn,
    SwitchLanguage,
    ErrAccountFormat,
    ErrPasswordEmpty,
    ErrWrongPassword,
    ErrUnreachable,
    ErrServer,
    ErrRateLimited,
    ErrSessionExpired,
    SignedIn,
    LogOut,
    LoggingOut,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_the_switch_names_the_other_language() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(Lang::Zh.tr(Text::LogIn), "登录");
        assert_eq!(Lang::En.tr(Text::LogIn), "Log in");
        assert_eq!(Lang::Zh.tr(Text::SwitchLanguage), "English");
        assert_eq!(Lang::Zh.other(), Lang::En);
    }
}
