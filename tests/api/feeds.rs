//! Partner feeds (issue 9), from the outside: onboarding and keys, uploads in every mode and
//! format, the same file applied once, bad files failing only their own job, async jobs,
//! requeue, schedules pulling a local feed URL with ETag, and the audit trail.

use std::time::Duration;

use reqwest::Response;
use retail_api_types::{
    FeedJob, FeedJobState, FeedResult, FeedSchedule, PartnerCreated, ProductList, SupplierCount,
};
use retail_tests::{TestApp, expect_problem, metric, spawn_app};
use serde_json::{Value, json};

async fn shop() -> (TestApp, String) {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    (app, admin)
}

async fn onboard(app: &TestApp, admin: &str, name: &str) -> PartnerCreated {
    let body = json!({"name": name, "contact_email": format!("{}@supplier.test", name.to_lowercase().replace(' ', "-"))});
    let r = app.post_json("/api/admin/partners", &body, Some(admin)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn push(app: &TestApp, key: &str, content_type: &str, body: &[u8], query: &str) -> Response {
    app.client
        .post(app.url(&format!("/api/partner/feeds{query}")))
        .header("X-API-Key", key)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn push_ok(app: &TestApp, key: &str, csv: &str, query: &str) -> FeedResult {
    let r = push(app, key, "text/csv", csv.as_bytes(), query).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn find(app: &TestApp, q: &str) -> ProductList {
    app.get_json(&format!("/api/products?q={q}&per_page=50"), None).await
}

#[tokio::test]
async fn a_partner_is_onboarded_pushes_a_csv_and_shoppers_find_the_good_rows() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Tea Garden").await;
    assert!(p.api_key.starts_with("rk_") && p.api_key.len() == 48, "{}", p.api_key);
    assert_eq!(p.partner.keys.len(), 1);
    assert!(p.partner.keys[0].active && p.api_key.starts_with(&p.partner.keys[0].prefix));
    // the key is never shown again
    let again: Value = app.get_json(&format!("/api/admin/partners/{}", p.partner.id), Some(&admin)).await;
    assert!(!again.to_string().contains(&p.api_key[16..]));

    let csv = "sku,name,price,stock,category\nTG-GREEN,Sencha green tea,4.50,10,tea\nTG-BAD,Broken tea,-1,1,tea\nTG-BLACK,\"Qwertea black, strong\",1.15,3,tea\n";
    let before = app.metrics().await;
    let res = push_ok(&app, &p.api_key, csv, "").await;
    let after = app.metrics().await;
    for (outcome, n) in [("accepted", 2.0), ("rejected", 1.0)] {
        let series = format!(r#"retail_feed_rows_total{{outcome="{outcome}"}}"#);
        assert_eq!(metric(&after, &series).unwrap() - metric(&before, &series).unwrap(), n, "{outcome}");
    }
    assert!(!res.duplicate);
    let job = &res.job;
    assert_eq!(
        (job.state, job.rows_total, job.rows_created, job.rows_rejected),
        (FeedJobState::Succeeded, 3, 2, 1)
    );
    assert!(job.applied);
    assert_eq!(res.errors.len(), 1);
    assert_eq!((res.errors[0].row, res.errors[0].field.as_str()), (3, "price"));
    assert!(res.errors[0].reason.contains("negative"), "{:?}", res.errors[0]);
    // exact prices, stock through the ledger
    let found = find(&app, "qwertea").await;
    assert_eq!(found.items.len(), 1);
    assert_eq!((found.items[0].price_cents, found.items[0].stock), (115, 3));
    let moves: Value = app
        .get_json(&format!("/api/admin/products/{}/stock-movements", found.items[0].id), Some(&admin))
        .await;
    assert_eq!(moves["items"][0]["reason"], format!("feed job {}", job.id));
    assert!(find(&app, "broken").await.items.is_empty());
    // the catalog filters by partner, alone and with a search
    let theirs: ProductList = app.get_json(&format!("/api/products?partner_id={}", p.partner.id), None).await;
    let mut skus: Vec<&str> = theirs.items.iter().map(|x| x.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!((skus, theirs.pagination.total), (vec!["TG-BLACK", "TG-GREEN"], 2));
    let q: ProductList =
        app.get_json(&format!("/api/products?partner_id={}&q=sencha", p.partner.id), None).await;
    assert_eq!(q.items.iter().map(|x| x.sku.as_str()).collect::<Vec<_>>(), ["TG-GREEN"]);
    let r = app.get("/api/products?partner_id=0", None).send().await.unwrap();
    expect_problem(r, 400, "invalid_query").await;
    // shoppers choose the filter from the suppliers with visible products
    let suppliers: Vec<SupplierCount> = app.get_json("/api/suppliers", None).await;
    let ours = suppliers.iter().find(|x| x.partner_id == p.partner.id);
    assert_eq!(
        ours.map(|x| (x.name.as_str(), x.product_count)),
        Some((p.partner.name.as_str(), 2)),
        "{suppliers:?}"
    );
    let mut names: Vec<&str> = suppliers.iter().map(|x| x.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, suppliers.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), "by name");

    // the same file again: recognised, applied once
    let dup = push_ok(&app, &p.api_key, csv, "").await;
    assert!(dup.duplicate);
    assert_eq!(dup.job.id, job.id);
    // a changed file updates, leaves the rest alone
    let csv2 = "sku,name,price,stock,category\nTG-GREEN,Sencha green tea,4.50,10,tea\nTG-BLACK,\"Qwertea black, strong\",1.25,1,tea\n";
    let upd = push_ok(&app, &p.api_key, csv2, "").await;
    assert_eq!((upd.job.rows_updated, upd.job.rows_unchanged, upd.job.rows_created), (1, 1, 0));
    // (read by ID: search pages are cached for a moment)
    let assam: retail_api_types::Product =
        app.get_json(&format!("/api/products/{}", found.items[0].id), None).await;
    assert_eq!((assam.price_cents, assam.stock), (125, 1));
    let report: Value =
        app.get_json("/api/staff/reconciliation", Some(&app.token_for("finance").await)).await;
    assert_eq!(report["stock_discrepancies"], json!([]), "stock agrees with its ledger");

    // the partner reads its job and the error report; another partner cannot
    let mine: FeedJob = app
        .client
        .get(app.url(&job.status_url))
        .header("X-API-Key", &p.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine.id, job.id);
    let other = onboard(&app, &admin, "Other Supplier").await;
    let r =
        app.client.get(app.url(&job.status_url)).header("X-API-Key", &other.api_key).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    let audit: Value = app.get_json("/api/admin/audit?entity_type=partner", Some(&admin)).await;
    assert!(audit.to_string().contains("partner.created"));
    assert!(!audit.to_string().contains(&p.api_key), "keys are masked in the audit log");
    let feed_audit: Value = app.get_json("/api/admin/audit?entity_type=feed_job", Some(&admin)).await;
    assert!(feed_audit.to_string().contains("feed.applied"));
}

#[tokio::test]
async fn keys_are_checked_rotated_with_grace_revoked_and_suspension_refuses() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Key Co").await;
    let id = p.partner.id;
    let csv = b"sku,name,price\nKC-1,Key thing,1.00\n";
    for key in ["", "nonsense", "rk_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"] {
        let r = push(&app, key, "text/csv", csv, "").await;
        expect_problem(r, 401, "unauthorized").await;
    }
    // rotation: the old key keeps working for the grace period, the new one at once
    let r = app
        .post_json(&format!("/api/admin/partners/{id}/keys"), &json!({"grace_secs": 3600}), Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let rotated: Value = r.json().await.unwrap();
    let new_key = rotated["api_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, p.api_key);
    assert_eq!(push(&app, &p.api_key, "text/csv", csv, "?mode=validate_only").await.status(), 200);
    assert_eq!(push(&app, &new_key, "text/csv", csv, "?mode=validate_only").await.status(), 200);
    // without grace the old keys stop at once
    let r = app
        .post_json(&format!("/api/admin/partners/{id}/keys"), &json!({"grace_secs": 0}), Some(&admin))
        .send()
        .await
        .unwrap();
    let newest = r.json::<Value>().await.unwrap()["api_key"].as_str().unwrap().to_owned();
    expect_problem(push(&app, &new_key, "text/csv", csv, "").await, 401, "unauthorized").await;
    assert_eq!(push(&app, &newest, "text/csv", csv, "?mode=validate_only").await.status(), 200);
    // revoking
    let partner: Value = app.get_json(&format!("/api/admin/partners/{id}"), Some(&admin)).await;
    let key_id = partner["keys"][0]["id"].as_i64().unwrap();
    let r = app
        .post_json(&format!("/api/admin/partners/{id}/keys/{key_id}/revoke"), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    expect_problem(push(&app, &newest, "text/csv", csv, "").await, 401, "unauthorized").await;
    // suspension
    let fresh = app
        .post_json(&format!("/api/admin/partners/{id}/keys"), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    let fresh = fresh.json::<Value>().await.unwrap()["api_key"].as_str().unwrap().to_owned();
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/admin/partners/{id}"),
            &json!({"status": "suspended"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    expect_problem(push(&app, &fresh, "text/csv", csv, "").await, 403, "forbidden").await;
    // a customer cannot onboard
    let customer = app.register("feeds-cust@retail.test").await.access_token;
    let r = app
        .post_json("/api/admin/partners", &json!({"name": "X", "contact_email": "x@y.test"}), Some(&customer))
        .send()
        .await
        .unwrap();
    expect_problem(r, 403, "forbidden").await;
}

#[tokio::test]
async fn modes_strict_all_or_nothing_dry_run_and_ownership() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Mode Co").await;
    let key = &p.api_key;
    app.product("SHOP-OWN-1", 500, 5, "misc").await;
    let csv = "sku,name,price\nMC-1,Zorbly one,1.00\nMC-2,,2.00\nSHOP-OWN-1,Hijack,0.01\nMC-1,Dup,3.00\n";
    // dry run: counts and errors, nothing written
    let dry = push_ok(&app, key, csv, "?mode=validate_only").await;
    assert_eq!((dry.job.rows_created, dry.job.rows_rejected, dry.job.applied), (1, 3, false));
    let fields: Vec<(i64, &str)> = dry.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(fields, [(3, "name"), (4, "sku"), (5, "sku")]);
    assert!(dry.errors[1].reason.contains("another seller"));
    assert!(dry.errors[2].reason.contains("duplicate of row 2"));
    assert!(find(&app, "zorbly").await.items.is_empty());
    // strict: one bad row and nothing is applied
    let strict = push_ok(&app, key, csv, "?mode=strict").await;
    assert_eq!((strict.job.state, strict.job.applied), (FeedJobState::Failed, false));
    assert!(strict.job.last_error.as_deref().unwrap().contains("strict"));
    assert!(find(&app, "zorbly").await.items.is_empty());
    // the shop's own product is untouched
    let own = find(&app, "SHOP-OWN-1").await;
    assert_eq!(own.items[0].price_cents, 500);
    // lenient (the default): the good row applied
    let lenient = push_ok(&app, key, csv, "").await;
    assert_eq!((lenient.job.rows_created, lenient.job.applied), (1, true));
    // (another query than before: search pages are cached for a moment)
    assert_eq!(find(&app, "zorbly%20one").await.items.len(), 1);
    // the error report escapes formula cells
    let evil = "sku,name,price\n=cmd|' /C calc'!A0,x,1\n";
    let res = push_ok(&app, key, evil, "").await;
    let report = app.client.get(app.url(&res.job.errors_url)).header("X-API-Key", key).send().await.unwrap();
    assert_eq!(report.headers()["content-type"], "text/csv; charset=utf-8");
    let text = report.text().await.unwrap();
    assert!(text.starts_with("row,field,reason\n"), "{text}");
    assert!(
        !text
            .lines()
            .skip(1)
            .any(|l| l.split(',').any(|c| c.trim_matches('"').starts_with(['=', '+', '-', '@']))),
        "{text}"
    );
}

#[tokio::test]
async fn bad_files_fail_their_own_job_and_the_key_keeps_working() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Bad Files").await;
    let key = &p.api_key;
    let unreadable: [(&str, &[u8], &str); 5] = [
        ("text/csv", b"", "empty"),
        ("text/csv", b"sku,name,price\nA,\xe9t\xe9,1\n", "UTF-8"),
        ("application/json", br#"{"sku": "A"}"#, "array"),
        ("application/json", br#"[{"sku": "A", "name": "#, "not valid JSON"),
        ("text/csv", b"sku;title\nA;b\n", "price"),
    ];
    for (ct, body, why) in unreadable {
        let r = push(&app, key, ct, body, "").await;
        let problem = expect_problem(r, 422, "unreadable_feed").await;
        assert!(problem.detail.contains(why), "{why}: {}", problem.detail);
    }
    // a header-only file is fine: nothing to do
    let empty = push_ok(&app, key, "sku,name,price\n", "").await;
    assert_eq!((empty.job.rows_total, empty.job.state), (0, FeedJobState::Succeeded));
    // a JSON price must be a string; a truncated CSV still reads its complete rows
    let r = push(&app, key, "application/json", br#"[{"sku":"BF-J","name":"Json thing","price":1.15}]"#, "")
        .await;
    let res: FeedResult = r.json().await.unwrap();
    assert!(res.errors[0].reason.contains("not exact"));
    let res = push_ok(&app, key, "sku,name,price\nBF-T1,Truncated one,1.00\nBF-T2,\"Trunc", "").await;
    assert_eq!(res.job.rows_created, 1);
    // a 10 MB field is a row error, not a crash
    // (above partners.async_above_bytes: queued)
    let big = format!("sku,name,price\nBF-BIG,{},1.00\n", "x".repeat(10 * 1024 * 1024));
    let r = push(&app, key, "text/csv", big.as_bytes(), "").await;
    assert_eq!(r.status(), 202);
    let queued: FeedResult = r.json().await.unwrap();
    let done = wait_for_job(&app, &admin, queued.job.id, FeedJobState::Succeeded).await;
    assert_eq!(done.rows_rejected, 1);
    let report = app.client.get(app.url(&done.errors_url)).bearer_auth(&admin).send().await.unwrap();
    let report = report.text().await.unwrap();
    assert!(report.contains("\n2,name,"), "{report}");
    // compressed bodies, unknown types and too-large bodies are refused before reading
    let r = app
        .client
        .post(app.url("/api/partner/feeds"))
        .header("X-API-Key", key)
        .header("content-type", "text/csv")
        .header("content-encoding", "gzip")
        .body(vec![0x1f, 0x8b, 8, 0])
        .send()
        .await
        .unwrap();
    expect_problem(r, 415, "unsupported_media_type").await;
    expect_problem(push(&app, key, "application/zip", b"PK", "").await, 415, "unsupported_media_type").await;
    let id = p.partner.id;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/admin/partners/{id}"),
            &json!({"max_body_bytes": 2048}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = push(&app, key, "text/csv", &vec![b'a'; 4096], "").await;
    expect_problem(r, 413, "payload_too_large").await;
    // a zip bomb in a multipart part is refused, not inflated
    let (ct, body) =
        retail_tests::multipart(&[("file", "feed.csv.gz", &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])]);
    let r = push(&app, key, &ct, &body, "").await;
    assert!(matches!(r.status().as_u16(), 415 | 422), "{}", r.status());
    // after all that, the key still works
    let ok = push_ok(&app, key, "sku,name,price\nBF-OK,Still fine,2.00\n", "").await;
    assert_eq!(ok.job.rows_created, 1);
    // a multipart upload with a proper file part
    let (ct, body) =
        retail_tests::multipart(&[("file", "feed.csv", b"sku,name,price\nBF-MP,Multipart thing,3.00\n")]);
    let r = push(&app, key, &ct, &body, "").await;
    assert_eq!(r.status(), 200);
    assert_eq!(find(&app, "multipart").await.items.len(), 1);
}

async fn wait_for_job(app: &TestApp, admin: &str, id: i64, state: FeedJobState) -> FeedJob {
    for _ in 0..100 {
        let job: FeedJob = app.get_json(&format!("/api/admin/feeds/jobs/{id}"), Some(admin)).await;
        if job.state == state {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} never reached {state:?}");
}

#[tokio::test]
async fn async_uploads_answer_202_and_a_failed_job_can_be_requeued() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Async Co").await;
    let r =
        push(&app, &p.api_key, "text/csv", b"sku,name,price\nAC-1,Async thing,1.00\n", "?async=true").await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let res: FeedResult = r.json().await.unwrap();
    assert_eq!(location, res.job.status_url);
    assert_eq!(res.job.state, FeedJobState::Queued);
    let done = wait_for_job(&app, &admin, res.job.id, FeedJobState::Succeeded).await;
    assert_eq!(done.rows_created, 1);
    // a file that cannot be read fails; requeued, it is tried again (and fails again)
    let r = push(&app, &p.api_key, "application/json", b"{}", "?async=true").await;
    let bad: FeedResult = r.json().await.unwrap();
    let failed = wait_for_job(&app, &admin, bad.job.id, FeedJobState::Failed).await;
    assert!(failed.last_error.unwrap().contains("array"));
    let r = app
        .post_json(&format!("/api/admin/feeds/jobs/{}/requeue", bad.job.id), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<FeedJob>().await.unwrap().state, FeedJobState::Queued);
    let again = wait_for_job(&app, &admin, bad.job.id, FeedJobState::Failed).await;
    assert_eq!(again.attempts, 1, "attempts reset on requeue");
    let r = app
        .post_json(&format!("/api/admin/feeds/jobs/{}/requeue", done.id), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "not_failed").await;
    let list: Value = app
        .get_json(&format!("/api/admin/feeds/jobs?partner_id={}&state=failed", p.partner.id), Some(&admin))
        .await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn a_job_whose_worker_died_is_taken_over_and_applied_once() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Crash Co").await;
    let body = b"sku,name,price,stock\nCC-1,Crash thing,1.00,4\n".to_vec();
    let partner = p.partner.id;
    // a job held by a worker whose lease ran out (it crashed)
    let job = app
        .state
        .db
        .write(move |c| {
            let j = retail_store::repo::feeds::insert_job(
                c,
                &retail_store::repo::feeds::NewJob {
                    partner_id: partner,
                    source: "upload",
                    schedule_id: None,
                    format: "csv",
                    mode: "lenient",
                    state: "running",
                    content_hash: &"0".repeat(64),
                    body: &body,
                    actor_id: None,
                },
                Some("dead-worker"),
                Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
                chrono::Utc::now(),
            )?;
            Ok::<_, retail_store::StoreError>(j)
        })
        .await
        .unwrap();
    let done = wait_for_job(&app, &admin, job.id, FeedJobState::Succeeded).await;
    assert_eq!((done.rows_created, done.attempts), (1, 2));
    let found = find(&app, "crash").await;
    assert_eq!((found.items.len(), found.items[0].stock), (1, 4));
}

/// A feed URL on 127.0.0.1 that answers with an ETag, and 304 when it is sent back.
async fn feed_server(csv: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            let reply = if req.contains("if-none-match: \"v1\"") {
                "HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\netag: \"v1\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{csv}",
                    csv.len()
                )
            };
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    format!("http://{addr}/feed.csv")
}

#[tokio::test]
async fn a_schedule_pulls_the_feed_url_and_then_hears_not_modified() {
    let (app, admin) = shop().await;
    let p = onboard(&app, &admin, "Pull Co").await;
    let url = feed_server("sku,name,price,stock\nPC-1,Pulled thing,2.50,6\n").await;
    let body = json!({"partner_id": p.partner.id, "url": url, "interval_secs": 3600});
    let r = app.post_json("/api/admin/feeds/schedules", &body, Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let s: FeedSchedule = r.json().await.unwrap();
    let wait_for = |outcome: &'static str, runs: usize| {
        let (app, admin) = (&app, &admin);
        async move {
            for _ in 0..100 {
                let list: Value = app.get_json("/api/admin/feeds/schedules", Some(admin)).await;
                let items: Vec<FeedSchedule> = serde_json::from_value(list["items"].clone()).unwrap();
                let sched = items.into_iter().find(|x| x.id == s.id).unwrap();
                if sched.runs.len() >= runs && sched.last_outcome.as_deref() == Some(outcome) {
                    return sched;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the schedule never recorded {outcome}");
        }
    };
    let ran = wait_for("queued", 1).await;
    assert_eq!(ran.runs[0].http_status, Some(200));
    let job = ran.runs[0].job_id.unwrap();
    wait_for_job(&app, &admin, job, FeedJobState::Succeeded).await;
    assert_eq!(find(&app, "pulled").await.items[0].price_cents, 250);
    // due again: the server sends the ETag back and hears 304
    let patch = json!({"enabled": true});
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/admin/feeds/schedules/{}", s.id),
            &patch,
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let again = wait_for("not_modified", 2).await;
    assert_eq!(again.runs[0].http_status, Some(304));
    // bad schedules are refused, field named
    let bad = json!({"partner_id": p.partner.id, "url": "ftp://x", "interval_secs": 5});
    let r = app.post_json("/api/admin/feeds/schedules", &bad, Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .client
        .delete(app.url(&format!("/api/admin/feeds/schedules/{}", s.id)))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn the_seed_onboards_a_demo_partner_with_feed_runs_and_a_schedule() {
    let (app, admin) = shop().await;
    let p: Value = app.get_json("/api/admin/partners/1", Some(&admin)).await;
    assert_eq!(p["name"], retail_server::seed_feeds::DEMO_PARTNER);
    assert_eq!(p["products"], retail_server::seed_feeds::DEMO_PRODUCTS);
    let jobs: Value = app.get_json("/api/admin/feeds/jobs?partner_id=1", Some(&admin)).await;
    let rejected: Vec<i64> =
        jobs["items"].as_array().unwrap().iter().map(|j| j["rows_rejected"].as_i64().unwrap()).collect();
    assert_eq!(rejected, [1, 0], "newest first: the second run had a bad row");
    let schedules: Value = app.get_json("/api/admin/feeds/schedules", Some(&admin)).await;
    assert_eq!(schedules["items"][0]["enabled"], false);
    // seeding again changes nothing
    app.seed().await;
    let again: Value = app.get_json("/api/admin/feeds/jobs?partner_id=1", Some(&admin)).await;
    assert_eq!(again["total"], 2);
}

#[tokio::test]
async fn the_help_documents_the_fields_and_the_rate_limit_holds_per_partner() {
    let (app, admin) = shop().await;
    let help: Value = app.get_json("/api/feeds/help", None).await;
    let fields: Vec<&str> =
        help["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(fields, ["sku", "name", "price", "currency", "stock", "category", "description"]);
    assert!(help["csv_example"].as_str().unwrap().starts_with("sku,name,price"));
    let p = onboard(&app, &admin, "Rate Co").await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/admin/partners/{}", p.partner.id),
            &json!({"rate_per_minute": 2}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csv = b"sku,name,price\nRC-1,Rate thing,1.00\n";
    assert_eq!(push(&app, &p.api_key, "text/csv", csv, "?mode=validate_only").await.status(), 200);
    assert_eq!(push(&app, &p.api_key, "text/csv", csv, "?mode=validate_only").await.status(), 200);
    let third = push(&app, &p.api_key, "text/csv", csv, "?mode=validate_only").await;
    assert!(third.headers().contains_key("retry-after"));
    expect_problem(third, 429, "rate_limited").await;
    // another partner is not affected
    let q = onboard(&app, &admin, "Calm Co").await;
    assert_eq!(push(&app, &q.api_key, "text/csv", csv, "?mode=validate_only").await.status(), 200);
}
