//! Password hashing is bounded: a login storm gets 503 + Retry-After, never 500, and never
//! more argon2 computations at once than configured.

use futures::future::join_all;
use retail_tests::{expect_problem, spawn_app, spawn_with};
use serde_json::json;

const PASSWORD: &str = "a long enough pass 1";

/// One hashing slot and a 1 ms wait: of a burst of correct logins some get through, the
/// others are refused with a 503 problem that says when to retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_burst_beyond_the_hashing_slots_gets_503_with_retry_after() {
    let app = spawn_with(|s| {
        s.hashing.max_concurrent = 1;
        s.hashing.wait_ms = 1;
    })
    .await;
    app.register("storm@example.com").await;
    let body = json!({"email": "storm@example.com", "password": PASSWORD});
    let results = join_all((0..16).map(|_| app.post_json("/api/auth/login", &body, None).send())).await;
    let (mut ok, mut busy) = (0, 0);
    for r in results {
        let r = r.unwrap();
        match r.status().as_u16() {
            200 => ok += 1,
            503 => {
                let retry = r.headers().get("retry-after").expect("503 carries Retry-After");
                let secs: u64 = retry.to_str().unwrap().parse().unwrap();
                assert!(secs >= 1, "Retry-After {secs}");
                expect_problem(r, 503, "unavailable").await;
                busy += 1;
            }
            other => panic!("unexpected status {other}: {}", r.text().await.unwrap()),
        }
    }
    assert!(ok >= 1, "no login got through ({busy} refused)");
    assert!(busy >= 1, "16 logins at once on one slot with a 1 ms wait were all served");
    assert_eq!(app.state.hasher.workers(), 1);
    assert_eq!(app.state.hasher.peak_concurrency(), 1);

    // unknown emails compete for the same slots: 401 or 503, never anything else
    let unknown = json!({"email": "nobody@example.com", "password": PASSWORD});
    let results = join_all((0..6).map(|_| app.post_json("/api/auth/login", &unknown, None).send())).await;
    for r in results {
        let s = r.unwrap().status().as_u16();
        assert!(s == 401 || s == 503, "unknown email got {s}");
    }

    // once the burst is over the slot is free again
    let t = app.login("storm@example.com", PASSWORD).await;
    assert!(!t.access_token.is_empty());
}

/// With the default wait (2 s), a modest burst queues briefly and every login succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_modest_burst_waits_its_turn_and_succeeds() {
    let app = spawn_app().await;
    app.register("calm@example.com").await;
    let body = json!({"email": "calm@example.com", "password": PASSWORD});
    let results = join_all((0..8).map(|_| app.post_json("/api/auth/login", &body, None).send())).await;
    for r in results {
        assert_eq!(r.unwrap().status(), 200);
    }
    let slots = app.state.hasher.workers();
    let peak = app.state.hasher.peak_concurrency();
    assert!((1..=slots).contains(&peak), "peak {peak} of {slots} slots");
}
