//! Behind a proxy: forwarding headers name the client only when the peer is a trusted proxy.

use std::net::{IpAddr, Ipv4Addr};

use reqwest::Client;
use retail_tests::{TestApp, spawn_with};
use serde_json::json;

async fn login_from(app: &TestApp, client: &Client, header: Option<(&str, &str)>) -> u16 {
    let mut rb = client.post(app.url("/api/auth/login")).json(&json!({}));
    if let Some((name, value)) = header {
        rb = rb.header(name, value);
    }
    rb.send().await.unwrap().status().as_u16()
}

async fn app_with(trusted: &[&str]) -> TestApp {
    let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
    spawn_with(move |s| {
        s.trusted_proxies = trusted;
        s.limits.auth_per_ip_burst = 2;
        s.limits.auth_per_ip_refill_ms = 60_000;
    })
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = app_with(&["127.0.0.1"]).await;
    let a = Some(("x-forwarded-for", "198.51.100.1"));
    let b = Some(("x-forwarded-for", "203.0.113.9, 198.51.100.2"));
    assert_ne!(login_from(&app, &app.client, a).await, 429);
    assert_ne!(login_from(&app, &app.client, a).await, 429);
    assert_eq!(login_from(&app, &app.client, a).await, 429, "client a spent its burst");
    // another client behind the same proxy, whatever it claims further left
    assert_ne!(login_from(&app, &app.client, b).await, 429, "client b has its own bucket");
    // Forwarded names a client too
    let c = Some(("forwarded", "for=\"[2001:db8::7]:4711\""));
    assert_ne!(login_from(&app, &app.client, c).await, 429);
}

#[tokio::test]
async fn without_trusted_proxies_the_headers_are_ignored() {
    let app = app_with(&[]).await;
    assert_ne!(login_from(&app, &app.client, Some(("x-forwarded-for", "198.51.100.1"))).await, 429);
    assert_ne!(login_from(&app, &app.client, Some(("x-forwarded-for", "198.51.100.2"))).await, 429);
    assert_eq!(login_from(&app, &app.client, Some(("x-forwarded-for", "198.51.100.3"))).await, 429);
    assert_eq!(login_from(&app, &app.client, Some(("forwarded", "for=198.51.100.4"))).await, 429);
}

#[tokio::test]
async fn a_peer_that_is_not_a_trusted_proxy_cannot_pick_its_bucket() {
    let app = app_with(&["127.0.0.1"]).await;
    let other = Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))).build().unwrap();
    assert_ne!(login_from(&app, &other, Some(("x-forwarded-for", "198.51.100.1"))).await, 429);
    assert_ne!(login_from(&app, &other, Some(("x-forwarded-for", "198.51.100.2"))).await, 429);
    assert_eq!(login_from(&app, &other, Some(("x-forwarded-for", "198.51.100.3"))).await, 429);
}
