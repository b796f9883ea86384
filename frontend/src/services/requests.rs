//! The one HTTP function ([`request`]) and the session-aware client ([`Api`]) built on it.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use gloo::net::http::{Method, RequestBuilder, Response};
use gloo::storage::{LocalStorage, Storage};
use retail_api_types::{FieldProblem, PROBLEM_JSON, Problem, RefreshRequest, TokenResponse, User};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::js_sys::Promise;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use yew::Callback;

/// localStorage key of the persisted [`TokenResponse`].
pub const SESSION_KEY: &str = "retail.session";

/// For calls without a body: `request(Method::POST, path, NO_BODY, ..)`.
pub const NO_BODY: Option<&()> = None;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered 4xx/5xx. Its RFC 9457 body, or one made up from the status when
    /// the body was not a problem document (e.g. a proxy's error page). Boxed to keep
    /// `Result<_, ApiError>` small.
    Problem(Box<Problem>),
    /// No answer at all: offline, server down, request blocked.
    Network(String),
    /// The request could not be built or a success body was not the expected JSON.
    Unexpected(String),
}

impl ApiError {
    /// HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem(p) => Some(p.status),
            _ => None,
        }
    }

    /// The problem's stable code, e.g. `version_conflict`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Problem(p) => Some(&p.code),
            _ => None,
        }
    }

    /// A sentence for the user.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Problem(p) => p.detail.clone(),
            ApiError::Network(_) => {
                "Cannot reach the server. Check your connection and try again.".to_owned()
            }
            ApiError::Unexpected(why) => format!("Something went wrong: {why}"),
        }
    }

    /// Per-field messages of a 422.
    pub fn field_errors(&self) -> &[FieldProblem] {
        match self {
            ApiError::Problem(p) => &p.errors,
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
    let req = match body {
        Some(b) => builder.json(b),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let resp = req.send().await.map_err(|e| ApiError::Network(e.to_string()))?;
    if resp.ok() {
        let text = resp.text().await.map_err(|e| ApiError::Network(e.to_string()))?;
        let json = if text.trim().is_empty() { "null" } else { text.as_str() };
        serde_json::from_str(json)
            .map_err(|e| ApiError::Unexpected(format!("unreadable answer from {path}: {e}")))
    } else {
        Err(ApiError::Problem(Box::new(problem_of(resp).await)))
    }
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
    /// New tokens are in place.
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
    tokens: RefCell<Option<TokenResponse>>,
    /// The refresh in flight, shared by every request that hit a 401 meanwhile: refresh
    /// tokens are single-use, so a second concurrent refresh would end the session.
    renewing: RefCell<Option<Promise>>,
    on_change: Callback<Option<TokenResponse>>,
    on_expired: Callback<()>,
}

/// The API client of one app instance: holds the session's tokens (the live copy async code
/// reads), persists them, and renews the access token once on a 401.
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

/// The session saved by an earlier visit, if readable.
pub fn stored_session() -> Option<TokenResponse> {
    LocalStorage::get::<TokenResponse>(SESSION_KEY).ok()
}

impl Api {
    /// `on_change` hears every new session value (for rendering); `on_expired` hears that the
    /// server ended the session.
    pub fn new(
        tokens: Option<TokenResponse>,
        on_change: Callback<Option<TokenResponse>>,
        on_expired: Callback<()>,
    ) -> Api {
        Api {
            inner: Rc::new(Inner {
                tokens: RefCell::new(tokens),
                renewing: RefCell::new(None),
                on_change,
                on_expired,
            }),
        }
    }

    /// The current tokens.
    pub fn tokens(&self) -> Option<TokenResponse> {
        self.inner.tokens.borrow().clone()
    }

    fn access_token(&self) -> Option<String> {
        self.inner.tokens.borrow().as_ref().map(|t| t.access_token.clone())
    }

    /// Starts (`Some`) or ends (`None`) the session: kept in memory, saved, announced.
    pub fn set_session(&self, tokens: Option<TokenResponse>) {
        let saved = match &tokens {
            Some(t) => LocalStorage::set(SESSION_KEY, t),
            None => {
                LocalStorage::delete(SESSION_KEY);
                Ok(())
            }
        };
        if let Err(e) = saved {
            gloo::console::warn!(format!("session not saved (it ends with this tab): {e}"));
        }
        self.adopt(tokens);
    }

    /// Takes a session value without saving it (it came from storage).
    fn adopt(&self, tokens: Option<TokenResponse>) {
        *self.inner.tokens.borrow_mut() = tokens.clone();
        self.inner.on_change.emit(tokens);
    }

    /// Replaces the account details (e.g. after `/api/auth/me`) keeping the tokens.
    pub fn set_user(&self, user: User) {
        let current = self.tokens();
        if let Some(mut t) = current
            && t.user != user
        {
            t.user = user;
            self.set_session(Some(t));
        }
    }

    /// Follows a change another tab made to the saved session.
    pub fn sync_from_storage(&self) {
        let stored = stored_session();
        if stored != self.tokens() {
            self.adopt(stored);
        }
    }

    /// [`request`] with the session's bearer token. A 401 renews the tokens (once, shared with
    /// concurrent callers) and retries; if the server refuses the renewal the session ends.
    pub async fn send<B, T>(&self, method: Method, path: &str, body: Option<&B>) -> Result<T, ApiError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let token = self.access_token();
        let first = request(method.clone(), path, body, token.as_deref()).await;
        let Some(used) = token else { return first };
        if !matches!(&first, Err(e) if e.status() == Some(401)) {
            return first;
        }
        match self.renew_after(&used).await {
            Renewal::Renewed => request(method, path, body, self.access_token().as_deref()).await,
            Renewal::Rejected => {
                self.set_session(None);
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

    async fn renew_after(&self, failed_access_token: &str) -> Renewal {
        // Someone (a concurrent request, or another tab) may have renewed already.
        if self.access_token().is_some_and(|t| t != failed_access_token) {
            return Renewal::Renewed;
        }
        if let Some(stored) = stored_session()
            && stored.access_token != failed_access_token
        {
            self.adopt(Some(stored));
            return Renewal::Renewed;
        }
        if self.tokens().is_none() {
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
                        let outcome = this.renew_now().await;
                        *this.inner.renewing.borrow_mut() = None;
                        Ok(outcome.to_js())
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

    async fn renew_now(&self) -> Renewal {
        let Some(refresh_token) = self.tokens().map(|t| t.refresh_token) else { return Renewal::LoggedOut };
        let body = RefreshRequest { refresh_token: refresh_token.clone() };
        let answer = request::<_, TokenResponse>(Method::POST, "/api/auth/refresh", Some(&body), None).await;
        if self.tokens().is_none() {
            // Logged out while the refresh was in flight: do not log back in.
            return Renewal::LoggedOut;
        }
        match answer {
            Ok(tokens) => {
                self.set_session(Some(tokens));
                Renewal::Renewed
            }
            // 429 and 5xx say nothing about the token; only a 4xx refusal ends the session.
            Err(ApiError::Problem(p)) if (400..500).contains(&p.status) && p.status != 429 => {
                match stored_session() {
                    // Another tab used the refresh token first and saved the successor.
                    Some(stored) if stored.refresh_token != refresh_token => {
                        self.adopt(Some(stored));
                        Renewal::Renewed
                    }
                    _ => Renewal::Rejected,
                }
            }
            Err(_) => Renewal::Unreachable,
        }
    }
}
