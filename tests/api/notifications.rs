//! Notifications: the outbox written with the change it reports, mail through SMTP to a local
//! sink (once, with the right content), preferences, retries while SMTP is down, the resend
//! after a crash with the same Message-ID, concurrent senders, staff alerts, the admin's
//! requeue, and the notification centre.

use std::sync::Arc;

use chrono::Utc;
use retail_server::config::SmtpSecurity;
use retail_server::service::notify;
use retail_server::worker::Mailing;
use retail_tests::smtp::SmtpSink;
use retail_tests::{TestApp, expect_problem, spawn_with};
use serde_json::{Value, json};

/// A seeded app whose mail goes to `port` on 127.0.0.1 (no TLS), sent only when a test says.
async fn app_mailing_to(port: u16, adjust: impl FnOnce(&mut retail_server::config::Settings)) -> TestApp {
    let app = spawn_with(|s| {
        s.notifications.smtp_host = Some("127.0.0.1".into());
        s.notifications.smtp_port = port;
        s.notifications.smtp_security = SmtpSecurity::None;
        s.notifications.smtp_timeout_ms = 2000;
        s.notifications.deliver_every_secs = 0;
        adjust(s);
    })
    .await;
    app.seed().await;
    app
}

fn mailing(app: &TestApp, owner: &str) -> Mailing {
    let mut m = Mailing::from_settings(&app.state.settings).unwrap();
    m.owner = owner.to_owned();
    m
}

/// One sender pass as of `now`.
async fn deliver(app: &TestApp, owner: &str, now: chrono::DateTime<Utc>) -> notify::Delivery {
    let m = mailing(app, owner);
    notify::deliver(&app.state.db, &m.mailer, &m.settings, &m.shop, &m.owner, now, None).await.unwrap()
}

async fn set_prefs(app: &TestApp, token: &str, prefs: Value) {
    let r = app
        .send_json(reqwest::Method::PUT, "/api/notifications/preferences", &prefs, Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn to(mails: &[retail_tests::smtp::Received], email: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t == email))
        .map(|m| m.header("Subject").unwrap_or_default())
        .collect()
}

/// A return of the order's first line, refunded: every step a customer hears about.
async fn refunded_return(app: &TestApp, customer: &str, order: &Value) -> i64 {
    let id = app.rma_create(customer, order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    app.rma_to_disposition(customer, id, "resellable", json!({"disposition": "refund"})).await;
    app.rma_step(&app.token_for("finance").await, id, "process", json!({})).await;
    id
}

#[tokio::test]
async fn each_event_mails_its_customer_once_with_its_content_and_the_app_shows_the_same() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(sink.port, |_| {}).await;
    let customer = app.register("mailme@retail.test").await.access_token;
    let p = app.product("MAIL-A", 1250, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(p, 1)], 0, "o-mail").await;
    let rma = refunded_return(&app, &customer, &order).await;

    let d = deliver(&app, "t1", Utc::now()).await;
    assert_eq!(d.failed, 0);
    let mails = sink.received();
    let subjects = to(&mails, "mailme@retail.test");
    let oid = order["id"].as_i64().unwrap();
    let expected = [
        format!("Retail demo shop: Order #{oid} confirmed"),
        format!("Retail demo shop: Order #{oid} shipped"),
        format!("Retail demo shop: Order #{oid} delivered"),
        format!("Retail demo shop: Return RMA-{rma} approved"),
        format!("Retail demo shop: Return RMA-{rma} received"),
        format!("Retail demo shop: Return RMA-{rma} refunded"),
    ];
    for s in &expected {
        assert_eq!(subjects.iter().filter(|x| *x == s).count(), 1, "{s} once in {subjects:?}");
    }
    assert_eq!(subjects.len(), expected.len(), "{subjects:?}");
    let refund =
        mails.iter().find(|m| m.header("Subject").unwrap_or_default().ends_with("refunded")).unwrap();
    assert!(refund.data.contains("=E2=82=AC12.50") || refund.data.contains("€12.50"), "{}", refund.data);
    assert!(refund.data.contains(&format!("http://127.0.0.1:8080/returns/{rma}")));
    assert!(refund.data.contains("multipart/alternative"));
    assert!(refund.header("Message-ID").unwrap().ends_with("@retail.notifications>"));

    // A second pass sends nothing again.
    let again = deliver(&app, "t1", Utc::now()).await;
    assert_eq!(again, notify::Delivery::default());
    assert_eq!(sink.received().len(), mails.len());

    // The app shows the same events, newest first, unread; reading them clears the count.
    let list: Value = app.get_json("/api/notifications", Some(&customer)).await;
    assert_eq!(list["unread"], 6);
    let titles: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles[0], format!("Your return RMA-{rma} was refunded"));
    let first = list["items"][0]["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/notifications/{first}/read")))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["read"], true);
    let other = app.register("nosy@retail.test").await.access_token;
    let r = app
        .client
        .post(app.url(&format!("/api/notifications/{first}/read")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    let r =
        app.client.post(app.url("/api/notifications/read-all")).bearer_auth(&customer).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["unread"], 0);
}

#[tokio::test]
async fn turning_off_non_essential_mail_keeps_the_mail_about_money() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(sink.port, |_| {}).await;
    let customer = app.register("quiet@retail.test").await.access_token;
    set_prefs(&app, &customer, json!({"non_essential": false, "sla_breach": true, "refund_failure": true}))
        .await;
    let prefs: Value = app.get_json("/api/notifications/preferences", Some(&customer)).await;
    assert_eq!(prefs["non_essential"], false);
    let p = app.product("QUIET-A", 900, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(p, 1)], 0, "o-quiet").await;
    refunded_return(&app, &customer, &order).await;
    deliver(&app, "t2", Utc::now()).await;
    let subjects = to(&sink.received(), "quiet@retail.test");
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(
        subjects.iter().any(|s| s.ends_with("confirmed")) && subjects.iter().any(|s| s.ends_with("refunded"))
    );
    // The app still shows every step.
    let list: Value = app.get_json("/api/notifications", Some(&customer)).await;
    assert_eq!(list["pagination"]["total"], 6);
}

#[tokio::test]
async fn mail_is_retried_while_smtp_is_down_and_delivered_when_it_returns() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = app_mailing_to(port, |_| {}).await;
    let customer = app.register("later@retail.test").await.access_token;
    let p = app.product("LATER-A", 500, 10, "tools").await;
    app.delivered_order(&customer, &[(p, 1)], 0, "o-later").await;
    let now = Utc::now();
    let d = deliver(&app, "t3", now).await;
    assert!(d.retried >= 3 && d.sent == 0, "{d:?}");
    // Not due again yet.
    assert_eq!(deliver(&app, "t3", now).await, notify::Delivery::default());
    let admin = app.token_for("admin").await;
    let pending: Value = app.get_json("/api/admin/outbox?state=pending", Some(&admin)).await;
    assert!(pending["items"][0]["last_error"].as_str().unwrap().contains("send"), "{pending}");
    assert_eq!(pending["items"][0]["attempts"], 1);

    let sink = SmtpSink::on(port).await;
    let later = now + chrono::Duration::hours(2);
    let d = deliver(&app, "t3", later).await;
    assert_eq!((d.sent, d.retried, d.failed), (3, 0, 0), "{d:?}");
    assert_eq!(to(&sink.received(), "later@retail.test").len(), 3);
}

#[tokio::test]
async fn failed_mail_is_listed_for_the_admin_and_requeued() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = app_mailing_to(port, |s| s.notifications.max_attempts = 1).await;
    let customer = app.register("giveup@retail.test").await.access_token;
    let p = app.product("GIVE-A", 500, 10, "tools").await;
    app.paid_order_with("tok_visa", &customer, &[(p, 1)], 0, "o-giveup").await;
    let d = deliver(&app, "t4", Utc::now()).await;
    assert_eq!(d.failed, 1);
    let admin = app.token_for("admin").await;
    let failed: Value = app.get_json("/api/admin/outbox?state=failed", Some(&admin)).await;
    assert_eq!(failed["pagination"]["total"], 1);
    let id = failed["items"][0]["id"].as_i64().unwrap();
    assert_eq!(failed["items"][0]["recipient"], "giveup@retail.test");
    let support = app.token_for("support").await;
    let r = app
        .client
        .post(app.url(&format!("/api/admin/outbox/{id}/requeue")))
        .bearer_auth(&support)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url(&format!("/api/admin/outbox/{id}/requeue")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "pending");
    let r = app
        .client
        .post(app.url(&format!("/api/admin/outbox/{id}/requeue")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "not_failed").await;
    let r = app
        .client
        .post(app.url("/api/admin/outbox/999999/requeue"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    let sink = SmtpSink::on(port).await;
    assert_eq!(deliver(&app, "t4", Utc::now()).await.sent, 1);
    assert_eq!(to(&sink.received(), "giveup@retail.test").len(), 1);
}

#[tokio::test]
async fn a_crash_after_sending_resends_with_the_same_message_id_and_nothing_else_twice() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(sink.port, |s| s.notifications.lease_secs = 60).await;
    let customer = app.register("crash@retail.test").await.access_token;
    let p = app.product("CRASH-A", 500, 10, "tools").await;
    app.delivered_order(&customer, &[(p, 1)], 0, "o-crash").await;
    // A sender claims and sends, then dies before marking the rows sent.
    let m = mailing(&app, "doomed");
    let now = Utc::now();
    let lease = now + chrono::Duration::seconds(60);
    let rows = app
        .state
        .db
        .write(move |c| retail_store::repo::notifications::claim(c, "doomed", now, lease, 100))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        notify::send_one(&m.mailer, r, &m.shop, &m.settings.public_url).await.unwrap();
    }
    // While the lease holds, nobody else sends them.
    assert_eq!(deliver(&app, "survivor", now).await, notify::Delivery::default());
    // Once it runs out, they go again, with the same Message-IDs.
    let d = deliver(&app, "survivor", now + chrono::Duration::seconds(61)).await;
    assert_eq!(d.sent, 3);
    let mails = sink.received();
    assert_eq!(mails.len(), 6);
    for r in &rows {
        let same: Vec<_> = mails
            .iter()
            .filter(|m| m.header("Message-ID").as_deref() == Some(r.message_id.as_str()))
            .collect();
        assert_eq!(same.len(), 2, "{}", r.message_id);
    }
    // The crashed sender's late mark does not count: the rows are the survivor's.
    let id = rows[0].id;
    let marked = app
        .state
        .db
        .write(move |c| retail_store::repo::notifications::mark_sent(c, id, "doomed", Utc::now()))
        .await
        .unwrap();
    assert!(!marked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_never_send_the_same_row() {
    let sink = SmtpSink::start().await;
    let app = Arc::new(app_mailing_to(sink.port, |s| s.notifications.batch = 7).await);
    let admin = app.token_for("admin").await;
    let p = app.product("CONC-A", 300, 100, "tools").await;
    for i in 0..8 {
        let t = app.register(&format!("conc{i}@retail.test")).await.access_token;
        app.delivered_order(&t, &[(p, 1)], 0, &format!("o-conc-{i}")).await;
    }
    let queued: Value = app.get_json("/api/admin/outbox?per_page=100", Some(&admin)).await;
    let total = queued["pagination"]["total"].as_i64().unwrap();
    assert!(total >= 24, "{total}");
    let mut tasks = Vec::new();
    for w in 0..4 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            for _ in 0..10 {
                sent += deliver(&app, &format!("w{w}"), Utc::now()).await.sent;
            }
            sent
        }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap();
    }
    let mails = sink.received();
    assert_eq!(sent as i64, total);
    assert_eq!(mails.len() as i64, total, "every row once");
    let mut ids: Vec<String> = mails.iter().map(|m| m.header("Message-ID").unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as i64, total);
}

#[tokio::test]
async fn finance_hears_about_a_failed_refund_and_teams_about_breached_targets() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(sink.port, |_| {}).await;
    let customer = app.register("refused@retail.test").await.access_token;
    let p = app.product("REFUSE-A", 700, 10, "tools").await;
    let order =
        app.delivered_order_paid_with("tok_refund_refused_once", &customer, &[(p, 1)], 0, "o-ref").await;
    let id = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    let decided = app.rma_to_disposition(&customer, id, "resellable", json!({"disposition": "refund"})).await;
    let finance = app.token_for("finance").await;
    let r = app
        .post_json(
            &format!("/api/returns/{id}/actions"),
            &json!({"action": "process", "version": decided["version"]}),
            Some(&finance),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    // The seeded support-queue return is 30 h old against a 24 h target.
    let m = mailing(&app, "t7");
    let (alerts, _) = retail_server::worker::notify_pass(&app.state.db, &m, Utc::now(), None).await.unwrap();
    assert!(alerts >= 2, "support and admin hear about the breach: {alerts}");
    let (again, _) = retail_server::worker::notify_pass(&app.state.db, &m, Utc::now(), None).await.unwrap();
    assert_eq!(again, 0, "once per return and stage");
    let mails = sink.received();
    let finance_mail = to(&mails, "finance@retail.test");
    assert!(
        finance_mail.iter().any(|s| s.contains(&format!("Refund of return RMA-{id} failed"))),
        "{finance_mail:?}"
    );
    assert!(!to(&mails, "warehouse@retail.test").iter().any(|s| s.contains("Refund")), "not the warehouse's");
    assert!(to(&mails, "support@retail.test").iter().any(|s| s.contains("is overdue")));
    assert!(to(&mails, "admin@retail.test").iter().any(|s| s.contains("is overdue")));
    // Staff who turn the alert off hear nothing more.
    set_prefs(&app, &finance, json!({"non_essential": true, "sla_breach": false, "refund_failure": false}))
        .await;
    let bell: Value = app.get_json("/api/notifications", Some(&finance)).await;
    assert!(bell["unread"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn a_change_that_rolls_back_queues_nothing() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(sink.port, |_| {}).await;
    let customer = app.register("rollback@retail.test").await.access_token;
    let p = app.product("ROLL-A", 800, 1, "tools").await;
    let order = app.delivered_order(&customer, &[(p, 1)], 0, "o-roll").await;
    let id = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    let decided =
        app.rma_to_disposition(&customer, id, "damaged", json!({"disposition": "replacement"})).await;
    let finance = app.token_for("finance").await;
    // No stock for the replacement: the completion rolls back, and with it its notification.
    let r = app
        .post_json(
            &format!("/api/returns/{id}/actions"),
            &json!({"action": "process", "version": decided["version"]}),
            Some(&finance),
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "out_of_stock").await;
    let list: Value = app.get_json("/api/notifications?per_page=100", Some(&customer)).await;
    assert!(list["items"].as_array().unwrap().iter().all(|n| n["event"] != "return_completed"), "{list}");
    let admin = app.token_for("admin").await;
    let outbox: Value = app.get_json("/api/admin/outbox?per_page=100", Some(&admin)).await;
    assert!(outbox["items"].as_array().unwrap().iter().all(|m| m["event"] != "return_completed"));
}
