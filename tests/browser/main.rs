//! Main user journeys through the real SPA in headless Chromium: the WASM app, served by
//! the real server, talking to the real API. Needs `frontend/dist` (built by `make spa`) and
//! Chromium at /usr/bin/chromium (installed by `make deps`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions, Tab};
use retail_tests::{TestApp, repo_root, spawn_with};

const CHROMIUM: &str = "/usr/bin/chromium";

async fn app_with_spa() -> TestApp {
    let dist = repo_root().join("frontend/dist");
    assert!(dist.join("index.html").exists(), "frontend/dist is missing: build the SPA first (`make spa`)");
    let app = spawn_with(move |s| s.dist_dir = dist).await;
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
        .path(Some(CHROMIUM.into()))
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
    let _turn = ONE_BROWSER.lock().await;
    let app = app_with_spa().await;
    let base = app.base.clone();
    let profile = tempfile::tempdir().unwrap();
    let res = tokio::task::spawn_blocking(move || {
        let b = browser(profile.path());
        let tab = b.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(15));
        f(&tab, &base);
    })
    .await;
    drop(app);
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
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
