//! Main user journeys through the real SPA in headless Chromium: the WASM app, served by
//! the real server, talking to the real API. Needs `frontend/dist` (built by `make spa`) and
//! Chromium (installed by `make deps`; another browser with `RETAIL_CHROMIUM=/path`).
//!
//! Where a journey is about the keyboard it presses real keys (`press_key`); elsewhere
//! `fill` sets values by script, which is faster but cannot catch keyboard bugs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page;
use headless_chrome::{Browser, LaunchOptions, Tab};
use retail_api_types::{Role, UserList};
use retail_server::config::Settings;
use retail_tests::{TestApp, repo_root, spawn_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;

/// The browser: `RETAIL_CHROMIUM` (or `CHROME`) when set, else the first of `chromium`,
/// `chromium-browser`, `google-chrome` found on `PATH`.
fn chromium() -> std::path::PathBuf {
    for var in ["RETAIL_CHROMIUM", "CHROME"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return p.into();
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
        .expect("no Chromium: install it (`make deps`) or set RETAIL_CHROMIUM to the browser's path")
}

async fn app_with_spa(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dist = repo_root().join("frontend/dist");
    assert!(dist.join("index.html").exists(), "frontend/dist is missing: build the SPA first (`make spa`)");
    let app = spawn_with(move |s| {
        s.dist_dir = dist;
        adjust(s);
    })
    .await;
    app.seed().await;
    app
}

fn browser(profile: &std::path::Path) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let opts = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1200, 900)))
        .user_data_dir(Some(profile.to_path_buf()))
        .args(args)
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Browser::new(opts).expect("chromium starts (install it with `make deps`)")
}

/// Polls until `f` holds or fails the test after 15 s with `what`.
fn wait_until(tab: &Tab, what: &str, f: impl Fn(&Tab) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if f(tab) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let html = tab.get_content().unwrap_or_default();
    panic!("timed out waiting for {what}; page:\n{}", &html[..html.len().min(4000)]);
}

fn text_of(tab: &Tab, css: &str) -> Option<String> {
    tab.find_element(css).ok().and_then(|e| e.get_inner_text().ok())
}

fn count(tab: &Tab, css: &str) -> usize {
    tab.find_elements(css).map(|v| v.len()).unwrap_or(0)
}

/// Sets an input's value the way typing would, firing `input` and `change`. (Simulated
/// key presses cost ~0.3 s per character in headless_chrome.)
fn fill(tab: &Tab, css: &str, value: &str) {
    let el = tab.wait_for_element(css).unwrap();
    el.call_js_fn(
        "function (v) { this.focus(); this.value = v; \
         this.dispatchEvent(new Event('input', { bubbles: true })); \
         this.dispatchEvent(new Event('change', { bubbles: true })); }",
        vec![serde_json::Value::String(value.to_owned())],
        false,
    )
    .unwrap();
}

fn login(tab: &Tab, base: &str, email: &str, password: &str) {
    tab.navigate_to(&format!("{base}/login")).unwrap();
    fill(tab, "#login-email", email);
    fill(tab, "#login-password", password);
    tab.find_element("#login-submit").unwrap().click().unwrap();
    wait_until(tab, "#whoami after login", |t| text_of(t, "#whoami").is_some_and(|s| s.contains(email)));
}

/// One browser at a time: on a 2-core machine parallel Chromiums only make each other slow.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs a blocking browser journey off the async runtime that serves the app.
async fn journey(f: impl FnOnce(&Tab, &str) + Send + 'static) {
    journey_with(|_| {}, move |cx| f(&cx.tab, &cx.base)).await;
}

/// What a journey gets: the browser, its first tab, the app, and a way to call async code.
struct Cx {
    browser: Browser,
    tab: Arc<Tab>,
    base: String,
    app: Arc<TestApp>,
    rt: Handle,
}

impl Cx {
    /// Runs async test code (API calls, the proxy) from the journey's blocking thread.
    fn block<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Another tab of the same browser (same cookies, storage and BroadcastChannel).
    fn new_tab(&self) -> Arc<Tab> {
        let tab = self.browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(15));
        tab
    }

    /// How many refreshes the server answered with `status` (from `/metrics`).
    fn refreshes(&self, status: u16) -> u64 {
        let text =
            self.block(async { self.app.get("/metrics", None).send().await.unwrap().text().await.unwrap() });
        text.lines()
            .filter(|l| l.starts_with("retail_http_requests_total{") && l.contains("/api/auth/refresh"))
            .filter(|l| l.contains(&format!("status=\"{status}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// The role of an account, read through the admin API.
    fn role_of(&self, email: &str) -> Role {
        self.block(async {
            let admin = self.app.token_for("admin").await;
            let list: UserList =
                self.app.get_json(&format!("/api/admin/users?q={email}"), Some(&admin)).await;
            list.items.into_iter().find(|u| u.email == email).unwrap().role
        })
    }
}

/// [`journey`] with adjusted server settings and the whole [`Cx`].
async fn journey_with(adjust: impl FnOnce(&mut Settings), f: impl FnOnce(&Cx) + Send + 'static) {
    let _turn = ONE_BROWSER.lock().await;
    let app = Arc::new(app_with_spa(adjust).await);
    let base = app.base.clone();
    let profile = tempfile::tempdir().unwrap();
    let rt = Handle::current();
    let shared = app.clone();
    let res = tokio::task::spawn_blocking(move || {
        let browser = browser(profile.path());
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(15));
        let cx = Cx { browser, tab, base, app: shared, rt };
        f(&cx);
    })
    .await;
    drop(app);
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `js` in the page and returns its value.
fn eval(tab: &Tab, js: &str) -> serde_json::Value {
    tab.evaluate(js, false).unwrap().value.unwrap_or(serde_json::Value::Null)
}

/// `window.location.pathname + search`.
fn location(tab: &Tab) -> String {
    eval(tab, "location.pathname + location.search").as_str().unwrap_or_default().to_owned()
}

/// Requests the page made to URLs containing `part` so far.
fn requests_to(tab: &Tab, part: &str) -> u64 {
    let js =
        format!("performance.getEntriesByType('resource').filter(e => e.name.includes('{part}')).length");
    eval(tab, &js).as_u64().unwrap_or(0)
}

/// The CSS class of the focused element.
fn focused_class(tab: &Tab) -> String {
    eval(tab, "document.activeElement ? document.activeElement.className : ''")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_logs_in_sees_products_and_stays_logged_in_after_reload() {
    journey(|tab, base| {
        login(tab, base, "customer@retail.test", "demo-Wren-2026");
        assert!(text_of(tab, "#whoami").unwrap().contains("(customer)"));
        tab.navigate_to(&format!("{base}/")).unwrap();
        wait_until(tab, "product cards rendered by the WASM app", |t| count(t, ".product-card") >= 10);
        let first = text_of(tab, ".product-card .product-price").unwrap();
        assert!(first.contains('€'), "price shown as money: {first}");
        assert!(text_of(tab, "#page-info").unwrap().contains("50"));
        tab.reload(false, None).unwrap();
        wait_until(tab, "session restored after reload", |t| {
            text_of(t, "#whoami").is_some_and(|s| s.contains("customer@retail.test"))
        });
        tab.find_element("#logout").unwrap().click().unwrap();
        wait_until(tab, "logged-out header", |t| count(t, "#nav-login") == 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_registers_searches_and_opens_a_product() {
    journey(|tab, base| {
        tab.navigate_to(&format!("{base}/register")).unwrap();
        fill(tab, "#register-email", "newbie@example.com");
        fill(tab, "#register-password", "a long enough pass 1");
        tab.find_element("#register-submit").unwrap().click().unwrap();
        wait_until(tab, "registered customer in header", |t| {
            text_of(t, "#whoami")
                .is_some_and(|s| s.contains("newbie@example.com") && s.contains("(customer)"))
        });
        tab.navigate_to(&format!("{base}/")).unwrap();
        wait_until(tab, "catalog", |t| count(t, ".product-card") > 1);
        fill(tab, "#search", "kettle");
        tab.find_element("#search-submit").unwrap().click().unwrap();
        wait_until(tab, "one search result", |t| {
            count(t, ".product-card") == 1
                && text_of(t, ".product-card .product-name").is_some_and(|n| n.contains("Electric kettle"))
        });
        tab.find_element(".product-card a.product-link").unwrap().click().unwrap();
        wait_until(tab, "product page", |t| {
            text_of(t, "#product-name").is_some_and(|n| n.contains("Electric kettle 1.7 l"))
        });
        assert!(text_of(tab, "#product-price").unwrap().contains("34.99"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_shows_an_error_and_no_session() {
    journey(|tab, base| {
        tab.navigate_to(&format!("{base}/login")).unwrap();
        fill(tab, "#login-email", "customer@retail.test");
        fill(tab, "#login-password", "not my password");
        tab.find_element("#login-submit").unwrap().click().unwrap();
        wait_until(tab, "login error", |t| {
            text_of(t, "#login-error").is_some_and(|s| s.to_lowercase().contains("invalid"))
        });
        assert_eq!(count(tab, "#whoami"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_product_that_shoppers_then_find() {
    journey(|tab, base| {
        login(tab, base, "admin@retail.test", "demo-Kestrel-2026");
        tab.wait_for_element("#nav-admin").unwrap().click().unwrap();
        wait_until(tab, "admin product table", |t| count(t, "tr.admin-product-row") > 0);
        fill(tab, "#new-sku", "BRW-TEST-1");
        fill(tab, "#new-name", "Browser-made teapot");
        fill(tab, "#new-price", "19.95");
        fill(tab, "#new-category", "kitchen");
        fill(tab, "#new-stock", "3");
        tab.find_element("#new-submit").unwrap().click().unwrap();
        wait_until(tab, "created product listed", |t| {
            count(t, "tr.admin-product-row[data-sku='BRW-TEST-1']") == 1
        });
        tab.navigate_to(&format!("{base}/?q=teapot")).unwrap();
        wait_until(tab, "shopper finds it", |t| {
            text_of(t, ".product-card .product-name").is_some_and(|n| n.contains("Browser-made teapot"))
        });
        assert!(text_of(tab, ".product-card .product-price").unwrap().contains("19.95"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_is_kept_out_of_the_admin_pages() {
    journey(|tab, base| {
        login(tab, base, "customer@retail.test", "demo-Wren-2026");
        assert_eq!(count(tab, "#nav-admin"), 0);
        tab.navigate_to(&format!("{base}/admin/products")).unwrap();
        wait_until(tab, "forbidden view", |t| count(t, "#forbidden") == 1);
        assert_eq!(count(tab, "#new-product"), 0);
    })
    .await;
}

/// Access tokens live 1 s (+5 s leeway on the server), so they expire during the journey.
fn short_tokens(s: &mut Settings) {
    s.auth.access_ttl_secs = 1;
}

/// Longer than an access token of [`short_tokens`] is accepted.
const PAST_EXPIRY: Duration = Duration::from_secs(7);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_renewed_once_and_the_admin_stays_on_the_page() {
    journey_with(short_tokens, |cx| {
        let tab = &cx.tab;
        login(tab, &cx.base, "admin@retail.test", "demo-Kestrel-2026");
        tab.wait_for_element("#nav-admin").unwrap().click().unwrap();
        tab.wait_for_element("#admin-nav-users").unwrap().click().unwrap();
        wait_until(tab, "user table", |t| count(t, "tr.user-row") >= 5);
        std::thread::sleep(PAST_EXPIRY);
        let before = cx.refreshes(200);
        fill(tab, "#user-search", "finance");
        tab.find_element("#user-search-submit").unwrap().click().unwrap();
        wait_until(tab, "search answered with the renewed token", |t| {
            count(t, "tr.user-row") == 1 && count(t, "tr.user-row[data-email='finance@retail.test']") == 1
        });
        assert_eq!(cx.refreshes(200) - before, 1, "exactly one refresh");
        assert_eq!(cx.refreshes(401), 0, "no refresh refused");
        assert_eq!(location(tab), "/admin/users?q=finance", "still on the page");
        assert!(text_of(tab, "#whoami").unwrap().contains("admin@retail.test"));
        assert_eq!(count(tab, "#session-expired"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_renewing_an_expired_token_at_once_keep_the_session() {
    journey_with(short_tokens, |cx| {
        let (one, base) = (&cx.tab, &cx.base);
        login(one, base, "admin@retail.test", "demo-Kestrel-2026");
        one.navigate_to(&format!("{base}/admin/products")).unwrap();
        wait_until(one, "tab 1 restored its session from the cookie", |t| {
            count(t, "tr.admin-product-row") > 0
        });
        let two = cx.new_tab();
        two.navigate_to(&format!("{base}/admin/products")).unwrap();
        wait_until(&two, "tab 2 restored the session", |t| count(t, "tr.admin-product-row") > 0);
        std::thread::sleep(PAST_EXPIRY);
        let before = cx.refreshes(200);
        // Both tabs hit the expired token within a few milliseconds of each other.
        let click_next = "document.querySelector('#page-next').click()";
        eval(one, click_next);
        eval(&two, click_next);
        for (name, tab) in [("tab 1", one.as_ref()), ("tab 2", two.as_ref())] {
            wait_until(tab, &format!("{name} shows page 2"), |t| {
                text_of(t, "#page-info").is_some_and(|s| s.starts_with("Page 2 of"))
                    && count(t, "tr.admin-product-row") > 0
            });
        }
        let renewed = cx.refreshes(200) - before;
        assert!(renewed >= 1, "the token was renewed");
        assert_eq!(cx.refreshes(401), 0, "no tab presented a spent refresh token");
        // The session is alive in both tabs: another step works without logging in again.
        for (name, tab) in [("tab 1", one.as_ref()), ("tab 2", two.as_ref())] {
            // Chromium only delivers mouse input to the tab in front.
            tab.activate().unwrap();
            tab.find_element("#page-next").unwrap().click().unwrap();
            wait_until(tab, &format!("{name} shows page 3"), |t| {
                text_of(t, "#page-info").is_some_and(|s| s.starts_with("Page 3 of"))
            });
            assert!(text_of(tab, "#whoami").unwrap().contains("admin@retail.test"), "{name}");
        }
        assert_eq!(cx.refreshes(401), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_in_one_tab_logs_out_the_other() {
    journey_with(
        |_| {},
        |cx| {
            let (one, base) = (&cx.tab, &cx.base);
            login(one, base, "customer@retail.test", "demo-Wren-2026");
            let two = cx.new_tab();
            two.navigate_to(&format!("{base}/")).unwrap();
            wait_until(&two, "tab 2 logged in through the shared cookie", |t| {
                text_of(t, "#whoami").is_some_and(|s| s.contains("customer@retail.test"))
            });
            // The refresh token is not readable by scripts.
            let script_view = eval(&two, "document.cookie + JSON.stringify(Object.assign({}, localStorage))");
            assert!(!script_view.as_str().unwrap_or_default().contains("refresh_token"), "{script_view}");
            assert!(!script_view.as_str().unwrap_or_default().contains("retail_refresh"), "{script_view}");
            one.activate().unwrap();
            one.find_element("#logout").unwrap().click().unwrap();
            wait_until(one, "tab 1 logged out", |t| count(t, "#nav-login") == 1);
            wait_until(&two, "tab 2 hears of the logout", |t| {
                count(t, "#nav-login") == 1 && count(t, "#whoami") == 0
            });
            two.reload(false, None).unwrap();
            wait_until(&two, "catalog after reload", |t| count(t, ".product-card") > 0);
            std::thread::sleep(Duration::from_millis(500));
            assert_eq!(count(&two, "#whoami"), 0, "the cookie is gone: no session comes back");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_changes_only_on_save_and_granting_admin_asks_first_by_keyboard() {
    journey_with(
        |_| {},
        |cx| {
            let tab = &cx.tab;
            login(tab, &cx.base, "admin@retail.test", "demo-Kestrel-2026");
            tab.wait_for_element("#nav-admin").unwrap().click().unwrap();
            tab.wait_for_element("#admin-nav-users").unwrap().click().unwrap();
            let select = "tr.user-row[data-email='finance@retail.test'] select.role-select";
            tab.wait_for_element(select).unwrap().focus().unwrap();
            let roles_before =
                cx.block(async { cx.app.get("/metrics", None).send().await.unwrap().text().await.unwrap() });
            assert!(!roles_before.contains("/role\""), "no role change yet");
            tab.press_key("ArrowDown").unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            assert_eq!(cx.role_of("finance@retail.test"), Role::Finance, "an arrow key sends nothing");
            assert_eq!(requests_to(tab, "/role"), 0);
            let shown = eval(tab, &format!("document.querySelector(\"{select}\").value"));
            assert_eq!(shown, "admin", "the choice is shown, pending");
            // Tab to Save, press Enter: granting admin asks first, focus on its Cancel.
            tab.press_key("Tab").unwrap();
            assert!(focused_class(tab).contains("role-save"), "focus on Save: {}", focused_class(tab));
            tab.press_key("Enter").unwrap();
            wait_until(tab, "in-page confirmation", |t| count(t, ".role-confirm") == 1);
            assert!(
                focused_class(tab).contains("role-confirm-no"),
                "focus on Cancel: {}",
                focused_class(tab)
            );
            assert_eq!(cx.role_of("finance@retail.test"), Role::Finance, "nothing sent before confirming");
            tab.press_key("Tab").unwrap();
            assert!(focused_class(tab).contains("role-confirm-yes"));
            tab.press_key("Enter").unwrap();
            wait_until(tab, "role changed", |t| {
                text_of(t, "#users-message").is_some_and(|m| m.contains("finance@retail.test is now admin"))
            });
            assert_eq!(cx.role_of("finance@retail.test"), Role::Admin);
            assert_eq!(requests_to(tab, "/role"), 1, "one PUT, on confirming");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_sort_by_keyboard_neither_floods_history_nor_the_api_and_pages_clamp() {
    journey(|tab, base| {
        tab.navigate_to(&format!("{base}/")).unwrap();
        wait_until(tab, "catalog", |t| count(t, ".product-card") > 0);
        let history = eval(tab, "history.length");
        let lists = requests_to(tab, "/api/products");
        tab.find_element("#sort").unwrap().focus().unwrap();
        for _ in 0..3 {
            tab.press_key("ArrowDown").unwrap();
        }
        wait_until(tab, "sort applied", |t| location(t).contains("sort="));
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(eval(tab, "history.length"), history, "select changes replace the history entry");
        assert_eq!(requests_to(tab, "/api/products") - lists, 1, "one list request for three key presses");

        tab.navigate_to(&format!("{base}/?page=9")).unwrap();
        wait_until(tab, "past the end shows the last page", |t| {
            text_of(t, "#page-info").is_some_and(|s| s.starts_with("Page 5 of 5"))
                && count(t, ".product-card") > 0
        });
        assert_eq!(location(tab), "/?page=5");
        assert_eq!(count(tab, "#empty"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_paging_survives_opening_a_product_and_going_back() {
    journey(|tab, base| {
        login(tab, base, "admin@retail.test", "demo-Kestrel-2026");
        tab.wait_for_element("#nav-admin").unwrap().click().unwrap();
        wait_until(tab, "admin products", |t| count(t, "tr.admin-product-row") > 0);
        tab.find_element("#page-next").unwrap().click().unwrap();
        wait_until(tab, "page 2", |t| text_of(t, "#page-info").is_some_and(|s| s.starts_with("Page 2 of")));
        assert_eq!(location(tab), "/admin/products?page=2");
        tab.find_element("tr.admin-product-row .cell-name a").unwrap().click().unwrap();
        wait_until(tab, "product page", |t| count(t, "#product-name") == 1);
        eval(tab, "history.back()");
        wait_until(tab, "back on page 2", |t| {
            text_of(t, "#page-info").is_some_and(|s| s.starts_with("Page 2 of"))
                && count(t, "tr.admin-product-row") > 0
        });
    })
    .await;
}

/// A proxy in front of the app that holds back `/api/products` answers while `slow` is set.
/// Each request gets its own upstream connection (`Connection: close`), so the delay applies
/// per request even when the browser reuses connections.
async fn slow_proxy(upstream: String, slow: Arc<AtomicBool>, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let (upstream, slow) = (upstream.clone(), slow.clone());
            tokio::spawn(async move {
                let _ = forward_one(client, &upstream, &slow, delay).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn forward_one(
    mut client: TcpStream,
    upstream: &str,
    slow: &AtomicBool,
    delay: Duration,
) -> std::io::Result<()> {
    // Read the request head, then its body by Content-Length.
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
    if target.starts_with("/api/products") && slow.load(Ordering::SeqCst) {
        tokio::time::sleep(delay).await;
    }
    let mut lines: Vec<&str> = head[..head_end - 4]
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut request = lines.join("\r\n").into_bytes();
    request.extend_from_slice(b"\r\n\r\n");
    request.extend_from_slice(&buf[head_end..]);
    let mut server = TcpStream::connect(upstream.trim_start_matches("http://")).await?;
    server.write_all(&request).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    client.write_all(&answer).await?;
    client.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_shows_a_timeout_with_a_retry_that_works() {
    journey_with(
        |_| {},
        |cx| {
            let slow = Arc::new(AtomicBool::new(true));
            let proxy = cx.block(slow_proxy(cx.base.clone(), slow.clone(), Duration::from_secs(5)));
            let tab = &cx.tab;
            // The SPA reads this once at start instead of its 15 s default.
            tab.call_method(Page::AddScriptToEvaluateOnNewDocument {
                source: "window.RETAIL_REQUEST_TIMEOUT_MS = 1500;".to_owned(),
                world_name: None,
                include_command_line_api: None,
                run_immediately: None,
            })
            .unwrap();
            tab.navigate_to(&format!("{proxy}/")).unwrap();
            wait_until(tab, "timeout message with Retry", |t| {
                text_of(t, "#error").is_some_and(|s| s.contains("taking too long")) && count(t, "#retry") == 1
            });
            assert_eq!(count(tab, ".product-card"), 0);
            slow.store(false, Ordering::SeqCst);
            tab.find_element("#retry").unwrap().click().unwrap();
            wait_until(tab, "products after Retry", |t| count(t, ".product-card") > 0);
            assert_eq!(count(tab, "#error"), 0);
        },
    )
    .await;
}
