//! The one HTTP function ([`request`]) and the session-aware client ([`Api`]) built on it.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use gloo::events::EventListener;
use gloo::net::http::{Method, RequestBuilder, Response};
use gloo::timers::callback::Timeout;
use retail_api_types::{FieldProblem, PROBLEM_JSON, Problem, RefreshRequest, TokenResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::js_sys::{Promise, Reflect};
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{AbortController, BroadcastChannel, MessageEvent, StorageEvent};
use yew::Callback;

use super::tabs::{self, TabMessage};

/// How long a request may take, in milliseconds, before it is abandoned with
/// [`ApiError::Timeout`] (the view then offers a Retry).
pub const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// The request timeout: [`REQUEST_TIMEOUT_MS`], unless the page set
/// `window.RETAIL_REQUEST_TIMEOUT_MS` before the app started (the browser tests do, to
/// exercise a slow API without waiting 15 s). Read once.
fn request_timeout_ms() -> u32 {
    thread_local! {
        static TIMEOUT: u32 = Reflect::get(&gloo::utils::window(), &JsValue::from_str("RETAIL_REQUEST_TIMEOUT_MS"))
            .ok()
            .and_then(|v| v.as_f64())
            .filter(|ms| (100.0..=600_000.0).contains(ms))
            .map_or(REQUEST_TIMEOUT_MS, |ms| ms as u32);
    }
    TIMEOUT.with(|t| *t)
}

/// For calls without a body: `request(Method::POST, path, NO_BODY, ..)`.
pub const NO_BODY: Option<&()> = None;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered 4xx/5xx. Its RFC 9457 body, or one made up from the status when
    /// the body was not a problem document (e.g. a proxy's error page). Boxed to keep
    /// `Result<_, ApiError>` small.
    Problem {
        /// The problem document.
        problem: Box<Problem>,
        /// Seconds from the `Retry-After` header (503 with the payment breaker open, 429), if
        /// the server sent one (a number, or a date counted from now).
        retry_after_secs: Option<u32>,
    },
    /// No answer at all: offline, server down, request blocked.
    Network(String),
    /// No answer within the request timeout.
    Timeout,
    /// The request could not be built or a success body was not the expected JSON.
    Unexpected(String),
}

impl ApiError {
    /// HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem { problem, .. } => Some(problem.status),
            _ => None,
        }
    }

    /// The problem's stable code, e.g. `version_conflict`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Problem { problem, .. } => Some(&problem.code),
            _ => None,
        }
    }

    /// A sentence for the user.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Problem { problem, .. } => problem.detail.clone(),
            ApiError::Network(_) => {
                "Cannot reach the server. Check your connection and try again.".to_owned()
            }
            ApiError::Timeout => "The server is taking too long to answer. Please try again.".to_owned(),
            ApiError::Unexpected(why) => format!("Something went wrong: {why}"),
        }
    }

    /// Seconds the server asked to wait before trying again (`Retry-After`), if it said.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            ApiError::Problem { retry_after_secs, .. } => *retry_after_secs,
            _ => None,
        }
    }

    /// Per-field messages of a 422.
    pub fn field_errors(&self) -> &[FieldProblem] {
        match self {
            ApiError::Problem { problem, .. } => &problem.errors,
            _ => &[],
        }
    }

    /// The messages for one field, joined, if any.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let msgs: Vec<&str> =
            self.field_errors().iter().filter(|f| f.field == field).map(|f| f.message.as_str()).collect();
        (!msgs.is_empty()).then(|| msgs.join("; "))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

/// Sends one request to the same-origin API and decodes the answer: 2xx bodies as `T` (an
/// empty body reads as JSON `null`, so `T = ()` suits 204), anything else as [`ApiError::Problem`].
/// A request that has no complete answer after the request timeout is aborted
/// ([`ApiError::Timeout`]).
pub async fn request<B, T>(
    method: Method,
    path: &str,
    body: Option<&B>,
    bearer: Option<&str>,
) -> Result<T, ApiError>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    request_with(method, path, body, bearer, &[]).await
}

/// [`request`] with extra request headers, e.g. `Idempotency-Key`.
pub async fn request_with<B, T>(
    method: Method,
    path: &str,
    body: Option<&B>,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<T, ApiError>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    // gloo-net appends its own (empty) query to a URL that already has one, leaving a stray
    // `&`; handing it the pairs instead keeps URLs (and HTTP cache keys) canonical.
    let split = path.split_once('?').and_then(|(base, qs)| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(qs).ok().map(|pairs| (base, pairs))
    });
    let (base, pairs) = split.unwrap_or((path, Vec::new()));
    let mut builder = RequestBuilder::new(base)
        .method(method)
        .header("Accept", "application/json")
        .query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let controller = AbortController::new().map_err(|e| ApiError::Unexpected(format!("{e:?}")))?;
    builder = builder.abort_signal(Some(&controller.signal()));
    let timed_out = Rc::new(Cell::new(false));
    // Dropping the timer (when this function returns) cancels it.
    let _timer = {
        let timed_out = timed_out.clone();
        Timeout::new(request_timeout_ms(), move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let failed = |e: gloo::net::Error| {
        if timed_out.get() { ApiError::Timeout } else { ApiError::Network(e.to_string()) }
    };
    let req = match body {
        Some(b) => builder.json(b),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let resp = req.send().await.map_err(failed)?;
    if resp.ok() {
        let text = resp.text().await.map_err(failed)?;
        let json = if text.trim().is_empty() { "null" } else { text.as_str() };
        serde_json::from_str(json)
            .map_err(|e| ApiError::Unexpected(format!("unreadable answer from {path}: {e}")))
    } else {
        let retry_after_secs = resp
            .headers()
            .get("retry-after")
            .and_then(|v| crate::clock::parse_retry_after(&v, crate::clock::now_utc()));
        Err(ApiError::Problem { problem: Box::new(problem_of(resp).await), retry_after_secs })
    }
}

/// Sends a request whose body is not JSON (a multipart form) or whose answer is not JSON (a
/// file), with `bearer`, `accept` and its own timeout (uploads and downloads may take longer
/// than [`REQUEST_TIMEOUT_MS`]). A 2xx answer is handed back unread; anything else becomes
/// [`ApiError::Problem`], made up from the status when the body is not a problem document
/// (its `type_uri` is then `about:blank`). No token renewal: callers retry after a 401.
pub(crate) async fn send_raw(
    method: Method,
    path: &str,
    body: Option<web_sys::FormData>,
    bearer: Option<&str>,
    accept: &str,
    timeout_ms: u32,
) -> Result<Response, ApiError> {
    let mut builder = RequestBuilder::new(path).method(method).header("Accept", accept);
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let controller = AbortController::new().map_err(|e| ApiError::Unexpected(format!("{e:?}")))?;
    builder = builder.abort_signal(Some(&controller.signal()));
    let timed_out = Rc::new(Cell::new(false));
    let _timer = {
        let timed_out = timed_out.clone();
        Timeout::new(timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let failed = |e: gloo::net::Error| {
        if timed_out.get() { ApiError::Timeout } else { ApiError::Network(e.to_string()) }
    };
    let req = match body {
        // The browser sets the multipart Content-Type with its boundary.
        Some(form) => builder.body(form),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let resp = req.send().await.map_err(failed)?;
    if resp.ok() {
        return Ok(resp);
    }
    let retry_after_secs = resp
        .headers()
        .get("retry-after")
        .and_then(|v| crate::clock::parse_retry_after(&v, crate::clock::now_utc()));
    Err(ApiError::Problem { problem: Box::new(problem_of(resp).await), retry_after_secs })
}

async fn problem_of(resp: Response) -> Problem {
    let status = resp.status();
    let headers = resp.headers();
    let is_problem = headers.get("content-type").is_some_and(|ct| ct.starts_with(PROBLEM_JSON));
    let body = resp.text().await.unwrap_or_default();
    if is_problem && let Ok(p) = serde_json::from_str::<Problem>(&body) {
        return p;
    }
    let mut detail = match status {
        401 => "Please log in.".to_owned(),
        403 => "You are not allowed to do this.".to_owned(),
        404 => "Not found.".to_owned(),
        429 => "Too many requests.".to_owned(),
        s if s >= 500 => "The server had a problem. Please try again.".to_owned(),
        s => format!("The request failed ({s})."),
    };
    if let Some(secs) = headers.get("retry-after") {
        detail.push_str(&format!(" Try again in {secs} s."));
    }
    Problem {
        type_uri: "about:blank".to_owned(),
        title: format!("HTTP {status}"),
        status,
        detail,
        code: format!("http_{status}"),
        request_id: headers.get("x-request-id"),
        errors: Vec::new(),
    }
}

/// How an attempt to renew the access token ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    /// New tokens are in place (renewed here, or by another tab).
    Renewed,
    /// The server refused the refresh token: the session is over.
    Rejected,
    /// No answer; the session may still be good.
    Unreachable,
    /// The user logged out meanwhile: nothing to renew, nothing to end.
    LoggedOut,
}

impl Renewal {
    fn to_js(self) -> JsValue {
        JsValue::from_str(match self {
            Renewal::Renewed => "renewed",
            Renewal::Rejected => "rejected",
            Renewal::Unreachable => "unreachable",
            Renewal::LoggedOut => "logged-out",
        })
    }

    fn from_js(v: &JsValue) -> Renewal {
        match v.as_string().as_deref() {
            Some("renewed") => Renewal::Renewed,
            Some("rejected") => Renewal::Rejected,
            Some("logged-out") => Renewal::LoggedOut,
            _ => Renewal::Unreachable,
        }
    }
}

struct Inner {
    /// The access token and account, in memory only. The refresh token never reaches the
    /// app: the server keeps it in an HttpOnly cookie (its copy in the JSON body is dropped).
    tokens: RefCell<Option<TokenResponse>>,
    /// Bumped by every logout, so a refresh that was in flight does not log back in.
    epoch: Cell<u64>,
    /// The refresh in flight, shared by every request that hit a 401 meanwhile: refresh
    /// tokens are single-use, so a second concurrent refresh would end the session.
    renewing: RefCell<Option<Promise>>,
    channel: Option<BroadcastChannel>,
    listeners: RefCell<Vec<EventListener>>,
    on_change: Callback<Option<TokenResponse>>,
    on_expired: Callback<()>,
}

/// The API client of one app instance: holds the session's access token (the live copy
/// async code reads), renews it once on a 401 (coordinated with the other tabs), and keeps
/// the other tabs informed.
#[derive(Clone)]
pub struct Api {
    inner: Rc<Inner>,
}

impl PartialEq for Api {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api").field("logged_in", &self.inner.tokens.borrow().is_some()).finish()
    }
}

/// The tokens as the app keeps them: without the refresh token.
fn without_refresh_token(mut tokens: TokenResponse) -> TokenResponse {
    tokens.refresh_token.clear();
    tokens
}

impl Api {
    /// `on_change` hears every new session value (for rendering); `on_expired` hears that the
    /// server ended the session.
    pub fn new(on_change: Callback<Option<TokenResponse>>, on_expired: Callback<()>) -> Api {
        Api::build(tabs::channel(), on_change, on_expired)
    }

    /// A client that neither hears nor tells other tabs.
    pub fn detached() -> Api {
        Api::build(None, Callback::noop(), Callback::noop())
    }

    fn build(
        channel: Option<BroadcastChannel>,
        on_change: Callback<Option<TokenResponse>>,
        on_expired: Callback<()>,
    ) -> Api {
        Api {
            inner: Rc::new(Inner {
                tokens: RefCell::new(None),
                epoch: Cell::new(0),
                renewing: RefCell::new(None),
                channel,
                listeners: RefCell::new(Vec::new()),
                on_change,
                on_expired,
            }),
        }
    }

    /// Starts following the other tabs (their logins, refreshes and logouts), then restores
    /// the session of an earlier visit from the refresh cookie. Call once.
    pub async fn start(&self) {
        let mut listeners = Vec::new();
        let weak = Rc::downgrade(&self.inner);
        if let Some(ch) = &self.inner.channel {
            let weak = weak.clone();
            listeners.push(EventListener::new(ch, "message", move |e| {
                let Some(api) = upgrade(&weak) else { return };
                match e.dyn_ref::<MessageEvent>().and_then(|m| tabs::decode(&m.data())) {
                    Some(TabMessage::Session { tokens }) => api.adopt(Some(tokens)),
                    Some(TabMessage::Logout) => api.forget(),
                    None => {}
                }
            }));
        }
        // Fallback for browsers without BroadcastChannel: the hint's removal means a logout.
        listeners.push(EventListener::new(&gloo::utils::window(), "storage", move |e| {
            let Some(api) = upgrade(&weak) else { return };
            if let Some(e) = e.dyn_ref::<StorageEvent>()
                && e.key().as_deref() == Some(tabs::SIGNED_IN_KEY)
                && e.new_value().is_none()
            {
                api.forget();
            }
        }));
        *self.inner.listeners.borrow_mut() = listeners;
        // A refused restore: the cookie is gone or the session ended while away, so this
        // browser is simply not logged in.
        if tabs::signed_in_hint() && self.tokens().is_none() && self.renew(None).await == Renewal::Rejected {
            tabs::set_signed_in_hint(false);
        }
        // Whatever happened, restoring is over.
        self.inner.on_change.emit(self.tokens());
    }

    /// The current tokens (without the refresh token).
    pub fn tokens(&self) -> Option<TokenResponse> {
        self.inner.tokens.borrow().clone()
    }

    /// The current access token.
    pub fn access_token(&self) -> Option<String> {
        self.inner.tokens.borrow().as_ref().map(|t| t.access_token.clone())
    }

    /// Starts a session with tokens from login or registration, and tells the other tabs.
    pub fn set_session(&self, tokens: TokenResponse) {
        let tokens = without_refresh_token(tokens);
        tabs::set_signed_in_hint(true);
        tabs::announce(self.inner.channel.as_ref(), &TabMessage::Session { tokens: tokens.clone() });
        self.adopt(Some(tokens));
    }

    /// Ends the session here and in the other tabs (the caller tells the server).
    pub fn end_session(&self) {
        tabs::set_signed_in_hint(false);
        tabs::announce(self.inner.channel.as_ref(), &TabMessage::Logout);
        self.forget();
    }

    /// Drops the session in this tab only.
    fn forget(&self) {
        self.inner.epoch.set(self.inner.epoch.get().wrapping_add(1));
        self.adopt(None);
    }

    fn adopt(&self, tokens: Option<TokenResponse>) {
        let tokens = tokens.map(without_refresh_token);
        if *self.inner.tokens.borrow() == tokens {
            return;
        }
        *self.inner.tokens.borrow_mut() = tokens.clone();
        self.inner.on_change.emit(tokens);
    }

    /// [`request`] with the session's bearer token. A 401 renews the tokens (once, shared with
    /// concurrent callers and other tabs) and retries; if the server refuses the renewal the
    /// session ends.
    pub async fn send<B, T>(&self, method: Method, path: &str, body: Option<&B>) -> Result<T, ApiError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_with(method, path, body, &[]).await
    }

    /// [`Api::send`] with extra request headers, e.g. `Idempotency-Key` (sent again, the same,
    /// on the retry after a renewal: the server has not run a request it answered with 401).
    pub async fn send_with<B, T>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        headers: &[(&str, &str)],
    ) -> Result<T, ApiError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let token = self.access_token();
        let first = request_with(method.clone(), path, body, token.as_deref(), headers).await;
        let Some(used) = token else { return first };
        if !matches!(&first, Err(e) if e.status() == Some(401)) {
            return first;
        }
        match self.renew(Some(used)).await {
            Renewal::Renewed => {
                request_with(method, path, body, self.access_token().as_deref(), headers).await
            }
            Renewal::Rejected => {
                self.end_session();
                self.inner.on_expired.emit(());
                first
            }
            Renewal::Unreachable | Renewal::LoggedOut => first,
        }
    }

    /// GET `path`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.send(Method::GET, path, NO_BODY).await
    }

    /// Whether the tokens in hand are newer than `stale` (the access token that failed, or
    /// none when restoring).
    fn fresher_than(&self, stale: Option<&str>) -> bool {
        match (self.access_token(), stale) {
            (Some(now), Some(stale)) => now != stale,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Gets a new access token, unless someone (a concurrent request here, another tab)
    /// already did. `stale`: the access token the server refused, `None` when restoring.
    async fn renew(&self, stale: Option<String>) -> Renewal {
        if self.fresher_than(stale.as_deref()) {
            return Renewal::Renewed;
        }
        if stale.is_some() && self.tokens().is_none() {
            return Renewal::LoggedOut;
        }
        let promise = {
            let mut slot = self.inner.renewing.borrow_mut();
            match slot.as_ref() {
                Some(p) => p.clone(),
                None => {
                    let this = self.clone();
                    // future_to_promise only polls on a later microtask, after this borrow ends.
                    let p = future_to_promise(async move {
                        let worker = this.clone();
                        let outcome =
                            tabs::exclusively(
                                move || async move { worker.renew_locked(stale).await.to_js() },
                            )
                            .await;
                        *this.inner.renewing.borrow_mut() = None;
                        Ok(outcome)
                    });
                    *slot = Some(p.clone());
                    p
                }
            }
        };
        match JsFuture::from(promise).await {
            Ok(v) => Renewal::from_js(&v),
            Err(_) => Renewal::Unreachable,
        }
    }

    /// The refresh itself, run while holding the cross-tab refresh lock.
    async fn renew_locked(&self, stale: Option<String>) -> Renewal {
        // The tab that held the lock before us may have refreshed already: its broadcast can
        // arrive just after the lock does, so give it a moment before spending the cookie's
        // token (presenting a token another tab already rotated would revoke the session).
        for wait in [0, 150] {
            if wait > 0 {
                tabs::sleep(wait).await;
            }
            if self.fresher_than(stale.as_deref()) {
                return Renewal::Renewed;
            }
        }
        if stale.is_some() && self.tokens().is_none() {
            return Renewal::LoggedOut;
        }
        let epoch = self.inner.epoch.get();
        let body = RefreshRequest { refresh_token: None };
        let answer = request::<_, TokenResponse>(Method::POST, "/api/auth/refresh", Some(&body), None).await;
        if self.inner.epoch.get() != epoch {
            // Logged out while the refresh was in flight: do not log back in.
            return Renewal::LoggedOut;
        }
        match answer {
            Ok(tokens) => {
                self.set_session(tokens);
                Renewal::Renewed
            }
            // 429 and 5xx say nothing about the token; only a 4xx refusal ends the session.
            Err(ApiError::Problem { problem: p, .. })
                if (400..500).contains(&p.status) && p.status != 429 =>
            {
                Renewal::Rejected
            }
            Err(_) => Renewal::Unreachable,
        }
    }
}

fn upgrade(weak: &Weak<Inner>) -> Option<Api> {
    weak.upgrade().map(|inner| Api { inner })
}
