//! Reading and poking the page the way a user would, shared by the screen
//! tests.

use wasm_bindgen::JsValue;

/// Runs a line of JavaScript in the page; a script error fails the test.
pub fn js(code: &str) -> JsValue {
    js_sys::eval(code).unwrap_or_else(|err| panic!("{code}: {err:?}"))
}

/// Whether an element matches `css`.
pub fn exists(css: &str) -> bool {
    js(&format!("document.querySelector('{css}') !== null")) == JsValue::TRUE
}

/// Clicks the first element matching `css`.
pub fn click(css: &str) {
    js(&format!("document.querySelector('{css}').click()"));
}
