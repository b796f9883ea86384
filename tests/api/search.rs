//! Full-text searches run on a connection pool of their own: while every search connection
//! is taken, authentication, readiness and plain browsing answer as usual, and a search that
//! cannot get a connection in time is refused with 503, never a 500.

use reqwest::StatusCode;
use retail_store::StoreError;
use retail_tests::{TestApp, expect_problem, spawn_with};

/// Takes every search connection (the test server has one) until the sender is dropped or
/// sent to; returns once it is taken.
async fn hold_search_pool(
    app: &TestApp,
) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Result<(), StoreError>>) {
    let (taken_tx, taken_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let db = app.state.db.clone();
    let held = tokio::spawn(async move {
        db.search(move |_c| {
            taken_tx.send(()).unwrap();
            let _ = release_rx.recv();
            Ok::<_, StoreError>(())
        })
        .await
    });
    taken_rx.await.unwrap();
    (release_tx, held)
}

#[tokio::test]
async fn searches_queue_on_their_own_pool_while_auth_and_readiness_answer() {
    let app = spawn_with(|s| s.db.search_connections = 1).await;
    app.seed().await;
    let token = app.register("searcher@example.test").await.access_token;

    let (release, held) = hold_search_pool(&app).await;
    // Searches wait for the one search connection, which never frees up here ...
    let searches: Vec<_> = ["kettle", "a", "bike", "lamp"]
        .into_iter()
        .map(|q| tokio::spawn(app.get(&format!("/api/products?q={q}"), None).send()))
        .collect();
    // ... while the reads that everything else needs answer from the read pool.
    for _ in 0..5 {
        assert_eq!(app.get("/ready", None).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(app.get("/api/auth/me", Some(&token)).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(app.get("/api/products?per_page=5", None).send().await.unwrap().status(), StatusCode::OK);
    }
    // A search that got no connection within its wait is refused as unavailable.
    for s in searches {
        expect_problem(s.await.unwrap().unwrap(), 503, "unavailable").await;
    }
    assert_eq!(app.get("/ready", None).send().await.unwrap().status(), StatusCode::OK);

    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    let res = app.get("/api/products?q=kettle", None).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["pagination"]["total"].as_i64().unwrap() >= 1, "{body}");
}

#[tokio::test]
async fn a_flood_of_searches_gets_answers_or_503_never_500() {
    let app = spawn_with(|s| s.db.search_connections = 2).await;
    app.seed().await;
    let letters = "abcdefghijklmnopqrstuvwxyz";
    let flood: Vec<_> = (0..120)
        .map(|i| {
            let q = &letters[i % 26..i % 26 + 1];
            tokio::spawn(app.get(&format!("/api/products?q={q}&page={}", i / 26 + 1), None).send())
        })
        .collect();
    assert_eq!(app.get("/ready", None).send().await.unwrap().status(), StatusCode::OK);
    for f in flood {
        let status = f.await.unwrap().unwrap().status();
        assert!(status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE, "{status}");
    }
}
