//! What the tabs of one browser share about the session, without sharing any secret: a
//! BroadcastChannel for fresh access tokens and logouts, a non-secret "signed in" flag in
//! localStorage, and a cross-tab lock around the single-use refresh (Web Locks, or a
//! localStorage lease where the browser has none).

use std::future::Future;

use gloo::storage::{LocalStorage, Storage};
use retail_api_types::TokenResponse;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::js_sys::{Date, Function, Math, Promise, Reflect};
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::BroadcastChannel;

/// localStorage key that says "this browser probably has a session cookie", so a reload
/// knows whether restoring is worth a request. Holds no secret.
pub const SIGNED_IN_KEY: &str = "retail.signed-in";

const CHANNEL: &str = "retail.session";
const LOCK: &str = "retail.refresh";
const LEASE_KEY: &str = "retail.refresh-lease";
/// A lease older than this is taken to belong to a tab that died holding it.
const LEASE_MS: f64 = 20_000.0;

/// A message between tabs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TabMessage {
    /// Someone logged in or refreshed: the new access token and account (no refresh token).
    Session { tokens: TokenResponse },
    /// Someone logged out, or the server ended the session.
    Logout,
}

/// The channel to the other tabs; `None` where BroadcastChannel is missing.
pub fn channel() -> Option<BroadcastChannel> {
    BroadcastChannel::new(CHANNEL).ok()
}

/// Posts `msg` to the other tabs (never to this one).
pub fn announce(channel: Option<&BroadcastChannel>, msg: &TabMessage) {
    let Some(ch) = channel else { return };
    if let Ok(text) = serde_json::to_string(msg)
        && let Err(e) = ch.post_message(&JsValue::from_str(&text))
    {
        gloo::console::warn!("could not tell other tabs about the session", e);
    }
}

/// Decodes a channel message.
pub fn decode(data: &JsValue) -> Option<TabMessage> {
    data.as_string().and_then(|s| serde_json::from_str(&s).ok())
}

/// Whether this browser was signed in when last seen.
pub fn signed_in_hint() -> bool {
    LocalStorage::raw().get_item(SIGNED_IN_KEY).ok().flatten().is_some()
}

/// Sets or clears the hint (other tabs see the change as a `storage` event).
pub fn set_signed_in_hint(on: bool) {
    let storage = LocalStorage::raw();
    let _ = if on { storage.set_item(SIGNED_IN_KEY, "1") } else { storage.remove_item(SIGNED_IN_KEY) };
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let _ = gloo::utils::window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks` (web-sys has it only behind its unstable-API flag).
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, callback: &Function) -> Promise;
}

fn lock_manager() -> Option<LockManager> {
    let locks = Reflect::get(&gloo::utils::window().navigator(), &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Runs `work` while no other tab of this browser runs work under the same lock, and returns
/// its result (encoded as a JS value so it can cross the lock's promise).
pub async fn exclusively<F, Fut>(work: F) -> JsValue
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = JsValue> + 'static,
{
    if let Some(locks) = lock_manager() {
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            future_to_promise(async move { Ok(work().await) })
        });
        let held = locks.request(LOCK, callback.unchecked_ref());
        return JsFuture::from(held).await.unwrap_or(JsValue::UNDEFINED);
    }
    let me = format!("{:.0}", Math::random() * 1e15);
    take_lease(&me).await;
    let out = work().await;
    let storage = LocalStorage::raw();
    if lease_holder(&storage).as_deref() == Some(me.as_str()) {
        let _ = storage.remove_item(LEASE_KEY);
    }
    out
}

fn lease_holder(storage: &web_sys::Storage) -> Option<String> {
    let v = storage.get_item(LEASE_KEY).ok().flatten()?;
    let (who, until) = v.split_once('@')?;
    (until.parse::<f64>().ok()? > Date::now()).then(|| who.to_owned())
}

/// Waits for a free lease, writes ours, and keeps it if no other tab overwrote it meanwhile.
async fn take_lease(me: &str) {
    let storage = LocalStorage::raw();
    let give_up = Date::now() + LEASE_MS;
    while Date::now() < give_up {
        if lease_holder(&storage).is_none() {
            let _ = storage.set_item(LEASE_KEY, &format!("{me}@{}", Date::now() + LEASE_MS));
            sleep(50).await;
            if lease_holder(&storage).as_deref() == Some(me) {
                return;
            }
        }
        sleep(100 + (Math::random() * 100.0) as i32).await;
    }
}
