//! Lock contention, in a test binary of its own: it counts the process's threads, which
//! other tests running beside it in the same process would disturb.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::future::join_all;
use retail_api_types::Product;
use retail_tests::{expect_problem, spawn_with};
use serde_json::json;

fn threads_now() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_lock_held_elsewhere_gives_503s_not_500s_and_no_thread_pile_up() {
    let app = spawn_with(|s| {
        s.db.busy_timeout_ms = 300;
        s.db.read_connections = 2;
    })
    .await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let r = app
        .post_json(
            "/api/admin/products",
            &json!({"sku": "LOCK-1", "name": "Contended", "price_cents": 100, "currency": "EUR", "category": "test", "initial_stock": 10}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    let p: Product = r.json().await.unwrap();
    let stock = format!("/api/admin/products/{}/stock", p.id);
    // warm up so the pools' threads exist before counting
    let r = app.post_json(&stock, &json!({"delta": 1, "reason": "warm"}), Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let threads_before = threads_now();

    let path = app.dir.path().join("retail.db");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut c = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        c.batch_execute("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        c.batch_execute("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();

    let body = json!({"delta": 1, "reason": "contended"});
    let sends = (0..40).map(|_| app.post_json(&stock, &body, Some(&admin)).send());
    let (results, peak) = tokio::join!(join_all(sends), async {
        let mut peak = 0;
        for _ in 0..20 {
            peak = peak.max(threads_now());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    });
    let mut unavailable = 0;
    for r in results {
        let r = r.unwrap();
        match r.status().as_u16() {
            200 => {}
            503 => {
                assert!(r.headers().contains_key("retry-after"), "503 without Retry-After");
                expect_problem(r, 503, "unavailable").await;
                unavailable += 1;
            }
            s => panic!("status {s}: {}", r.text().await.unwrap()),
        }
    }
    assert!(unavailable > 0, "the lock was held, some writes must have been refused");
    eprintln!("threads: {threads_before} before, {peak} at most while 40 writes waited");
    // Blocking threads are bounded by the pools (2 readers + 1 writer here, on each of the
    // server's 2 worker runtimes), not by the 40 requests waiting (the old code grew by about
    // one thread per waiting request): +1 for the lock holder, and slack for the runtimes' own.
    assert!(peak <= threads_before + 2 * (2 + 1) + 1 + 6, "threads grew from {threads_before} to {peak}");
    holder.join().unwrap();

    // once the lock is gone, writes work again and the ledger balances
    let r = app.post_json(&stock, &body, Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bad = app.state.db.read(retail_store::repo::products::stock_discrepancies).await.unwrap();
    assert!(bad.is_empty());
}
