//! The flash-sale stampede (issue 10), the load side of `tests/bench_stampede.sh`.
//!
//! Set-up, not timed: signs the admin in, creates a product with stock and a live sale of
//! `--units` units of it at 50 % off with a per-customer cap of `--cap`, then opens one
//! keep-alive HTTP/1.1 connection per customer (`--connect-parallel` at a time) and sends one
//! `GET /api/hello` on each, so that every connection is accepted and warm.
//!
//! Phase 1, the stampede: every connection gets its `POST /api/flash/sales/{id}/reservations`
//! (customer i asks for 1 unit when i is even, 2 when odd) encoded in advance and a reader
//! waiting for the answer; then one loop writes all the requests, one non-blocking write
//! each, with nothing else in between (on 2 shared cores, a task per request woken by a
//! barrier spread the release over 150-400 ms, as the server, busy with the first requests,
//! starved the client; the loop sends 2,000 in a few tens of ms). Timed from the first request
//! sent to the last answer received (`wall_ms`; `spread_ms`: first to last sent);
//! `p50_ms`/`p99_ms` are each request's own send-to-answer times.
//!
//! Phase 2, the winners pay: every customer who got a reservation pays it through
//! `POST /api/checkout` (`reservation_id`, a new `Idempotency-Key` each) on its own
//! connection, all released the same way. Timed the same way.
//!
//! Then it reads the sale back (`GET /api/flash/sales/{id}`) and the count of paid orders
//! (before and after, through the staff order list), prints a report and one summary line
//! `STAMPEDE key=value ...` for the script, which decides pass or fail. Exits 0 when the
//! benchmark ran (whatever the figures), 2 when it could not (bad arguments, set-up refused).

use std::collections::{BTreeMap, HashMap};
use std::io::ErrorKind;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, Error>;

const USAGE: &str = "\
usage: stampede --base http://127.0.0.1:PORT --tokens FILE [options]
  --tokens FILE            customers' access tokens, one a line (retail bench-data --tokens-out)
  --customers N            customers in the stampede, one connection each (default: every token)
  --units N                units allocated to the sale (100)
  --cap N                  per-customer cap of the sale (2)
  --stock N                initial stock of the sale's product (1000)
  --greedy N               the first N customers also fire a second request for --cap units on
                           a second connection, sent right after their first (0)
  --admin-email E          (admin@retail.test)
  --admin-password P       (demo-Kestrel-2026)
  --threads N              client runtime threads (2)
  --connect-parallel N     connections being opened at once during the warm-up (64)
  --timeout-ms N           per request; a request without an answer by then is an error (30000)";

struct Args {
    authority: Arc<str>,
    tokens: String,
    customers: Option<usize>,
    units: u32,
    cap: u32,
    stock: i64,
    greedy: usize,
    admin_email: String,
    admin_password: String,
    threads: usize,
    connect_parallel: usize,
    timeout: Duration,
}

fn num<T: FromStr>(flag: &str, value: &str) -> Res<T> {
    value.parse().map_err(|_| format!("{flag}: not a number: {value}").into())
}

/// `None` when only the usage was asked for.
fn parse_args() -> Res<Option<Args>> {
    let mut base = None;
    let mut a = Args {
        authority: Arc::from(""),
        tokens: String::new(),
        customers: None,
        units: 100,
        cap: 2,
        stock: 1000,
        greedy: 0,
        admin_email: "admin@retail.test".into(),
        admin_password: "demo-Kestrel-2026".into(),
        threads: 2,
        connect_parallel: 64,
        timeout: Duration::from_secs(30),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            return Ok(None);
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--base" => base = Some(v),
            "--tokens" => a.tokens = v,
            "--customers" => a.customers = Some(num(&flag, &v)?),
            "--units" => a.units = num(&flag, &v)?,
            "--cap" => a.cap = num(&flag, &v)?,
            "--stock" => a.stock = num(&flag, &v)?,
            "--greedy" => a.greedy = num(&flag, &v)?,
            "--admin-email" => a.admin_email = v,
            "--admin-password" => a.admin_password = v,
            "--threads" => a.threads = num::<usize>(&flag, &v)?.max(1),
            "--connect-parallel" => a.connect_parallel = num::<usize>(&flag, &v)?.max(1),
            "--timeout-ms" => a.timeout = Duration::from_millis(num(&flag, &v)?),
            _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
        }
    }
    let base = base.ok_or_else(|| format!("--base is required\n{USAGE}"))?;
    let authority =
        base.strip_prefix("http://").ok_or("--base must be an http:// URL")?.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err("--base must be http://HOST:PORT, without a path".into());
    }
    a.authority = Arc::from(authority);
    if a.tokens.is_empty() {
        return Err(format!("--tokens is required\n{USAGE}").into());
    }
    Ok(Some(a))
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1, by hand: requests are encoded before the release, so that sending one is a single
// write, and the answers (actix sends a Content-Length with each) are read with httparse

/// One keep-alive connection, with the bytes read past the last answer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// An answer, read to its end.
struct Answer {
    status: u16,
    retry_after: bool,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The problem's `code`, `?` when there is none.
    fn code(&self) -> String {
        self.json().get("code").and_then(Value::as_str).unwrap_or("?").to_string()
    }

    fn expect(self, status: u16, what: &str) -> Res<Value> {
        if self.status == status {
            Ok(self.json())
        } else {
            Err(format!("{what}: answered {} (expected {status}): {}", self.status, self.text()).into())
        }
    }
}

/// Encodes a request.
fn request(
    authority: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    idempotency_key: Option<&str>,
    body: Option<&Value>,
) -> Res<Vec<u8>> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {authority}\r\naccept: application/json\r\n");
    if let Some(t) = token {
        head.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    if let Some(k) = idempotency_key {
        head.push_str(&format!("idempotency-key: {k}\r\n"));
    }
    let body = match body {
        Some(v) => serde_json::to_vec(v)?,
        None => Vec::new(),
    };
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads more of the stream into `buf`.
async fn fill<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Res<()> {
    buf.reserve(8192);
    if r.read_buf(buf).await? == 0 {
        return Err("the server closed the connection".into());
    }
    Ok(())
}

/// Reads one answer; `buf` holds what was read past the previous one and keeps what is read
/// past this one.
async fn read_answer<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Res<Answer> {
    loop {
        let parsed = {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(buf)? {
                httparse::Status::Partial => None,
                httparse::Status::Complete(head) => {
                    let status = resp.code.ok_or("an answer without a status")?;
                    let (mut length, mut retry_after) = (0, false);
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(h.value)?.trim().parse::<usize>()?;
                        } else if h.name.eq_ignore_ascii_case("retry-after") {
                            retry_after = true;
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            return Err("a chunked answer (not supported here)".into());
                        }
                    }
                    Some((status, head, length, retry_after))
                }
            }
        };
        match parsed {
            None => fill(r, buf).await?,
            Some((status, head, length, retry_after)) => {
                while buf.len() < head + length {
                    fill(r, buf).await?;
                }
                let body = buf[head..head + length].to_vec();
                buf.drain(..head + length);
                return Ok(Answer { status, retry_after, body });
            }
        }
    }
}

impl Conn {
    async fn open(authority: &str) -> Res<Conn> {
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(8192) })
    }

    async fn roundtrip(&mut self, req: &[u8]) -> Res<Answer> {
        self.stream.write_all(req).await?;
        read_answer(&mut self.stream, &mut self.buf).await
    }
}

/// One request on a new connection (the set-up and read-back calls: no connection of theirs
/// sits idle long enough for the server's keep-alive timeout to close it).
async fn call(
    authority: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    idempotency_key: Option<&str>,
    body: Option<&Value>,
) -> Res<Answer> {
    let req = request(authority, method, path, token, idempotency_key, body)?;
    Conn::open(authority).await?.roundtrip(&req).await
}

/// One request of a volley and what came of it; `conn` is the connection, still open, for
/// the next request.
struct Shot {
    sent: Instant,
    done: Instant,
    result: Result<Answer, String>,
    conn: Option<Conn>,
}

/// Sends `reqs[i]` on `conns[i]`, all at once: a reader waits on every connection first, then
/// one loop writes every request (one non-blocking write each: the requests are small and the
/// sockets idle), and the readers take the answers as they come. Also returns how many
/// requests did not go out in one write (they were finished, late, after the loop).
async fn volley(conns: Vec<Conn>, reqs: Vec<Vec<u8>>, limit: Duration) -> (Vec<Shot>, usize) {
    let mut armed = Vec::with_capacity(reqs.len());
    for (conn, req) in conns.into_iter().zip(reqs) {
        let Conn { stream, mut buf } = conn;
        let (mut rd, wr) = stream.into_split();
        let reader = tokio::spawn(async move {
            let result = match tokio::time::timeout(limit, read_answer(&mut rd, &mut buf)).await {
                Ok(Ok(a)) => Ok(a),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
            };
            (result, Instant::now(), rd, buf)
        });
        armed.push((req, wr, reader));
    }
    // every reader waits on its socket before the first byte goes out
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut sent = Vec::with_capacity(armed.len());
    let mut failed: Vec<Option<String>> = armed.iter().map(|_| None).collect();
    let mut late = Vec::new();
    for (i, (req, wr, _)) in armed.iter_mut().enumerate() {
        sent.push(Instant::now());
        match wr.try_write(req) {
            Ok(n) if n == req.len() => {}
            Ok(n) => late.push((i, n)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => late.push((i, 0)),
            Err(e) => failed[i] = Some(format!("write: {e}")),
        }
    }
    let late_writes = late.len();
    for (i, from) in late {
        let (req, wr, _) = &mut armed[i];
        if let Err(e) = wr.write_all(&req[from..]).await {
            failed[i] = Some(format!("write: {e}"));
        }
    }
    let mut shots = Vec::with_capacity(armed.len());
    for ((i, (_, wr, reader)), sent) in armed.into_iter().enumerate().zip(sent) {
        if let Some(e) = failed[i].take() {
            reader.abort();
            shots.push(Shot { sent, done: Instant::now(), result: Err(e), conn: None });
            continue;
        }
        match reader.await {
            Ok((result, done, rd, buf)) => {
                let conn = if result.is_ok() {
                    rd.reunite(wr).ok().map(|stream| Conn { stream, buf })
                } else {
                    None
                };
                shots.push(Shot { sent, done, result, conn });
            }
            Err(e) => shots.push(Shot { sent, done: Instant::now(), result: Err(e.to_string()), conn: None }),
        }
    }
    (shots, late_writes)
}

// ---------------------------------------------------------------------------------------------
// figures

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted values (0 for none).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Send-to-answer times (sorted, ms) and the span from the first send to the last answer.
fn timings(spans: &[(Instant, Instant)]) -> (Vec<f64>, f64, f64) {
    let mut lat: Vec<f64> = spans.iter().map(|(s, d)| ms(d.duration_since(*s))).collect();
    lat.sort_by(f64::total_cmp);
    let first_sent = spans.iter().map(|s| s.0).min();
    let last_sent = spans.iter().map(|s| s.0).max();
    let last_done = spans.iter().map(|s| s.1).max();
    let (wall, spread) = match (first_sent, last_sent, last_done) {
        (Some(f), Some(l), Some(d)) => (ms(d.duration_since(f)), ms(l.duration_since(f))),
        _ => (0.0, 0.0),
    };
    (lat, wall, spread)
}

/// Prints the first few problems of a kind on stderr, then only counts them.
fn note(count: &mut usize, what: &str, detail: &str) {
    *count += 1;
    if *count <= 3 {
        eprintln!("stampede: {what}: {detail}");
    }
}

// ---------------------------------------------------------------------------------------------
// the benchmark

/// The sale's figures for one product: allocated, sold, reserved, remaining (signed: an
/// oversold sale must show as such, not as an unreadable answer), and the sale's state.
async fn sale_item(authority: &str, sale_id: i64, product_id: i64) -> Res<(i64, i64, i64, i64, String)> {
    let sale = call(authority, "GET", &format!("/api/flash/sales/{sale_id}"), None, None, None)
        .await?
        .expect(200, "GET /api/flash/sales/{id}")?;
    let state = sale.get("state").and_then(Value::as_str).unwrap_or("?").to_string();
    let items = sale.get("items").and_then(Value::as_array).ok_or("the sale has no items")?;
    let item = items
        .iter()
        .find(|i| i.get("product_id").and_then(Value::as_i64) == Some(product_id))
        .ok_or("the sale does not list its product")?;
    let n = |k: &str| item.get(k).and_then(Value::as_i64).ok_or_else(|| format!("sale item without {k}"));
    Ok((n("allocated")?, n("sold")?, n("reserved")?, n("remaining")?, state))
}

/// Paid orders in the database, as the staff order list counts them.
async fn paid_orders(authority: &str, admin: &str) -> Res<u64> {
    let page = call(authority, "GET", "/api/staff/orders?state=paid&per_page=1", Some(admin), None, None)
        .await?
        .expect(200, "GET /api/staff/orders")?;
    page.pointer("/pagination/total")
        .and_then(Value::as_u64)
        .ok_or_else(|| "order list without pagination.total".into())
}

/// The server's `retail_flash_reservations_total` counters by outcome (empty if /metrics is
/// not there): how many refusals were answered from memory, how many by the database.
async fn reservation_outcomes(authority: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Ok(answer) = call(authority, "GET", "/metrics", None, None, None).await else { return out };
    for line in answer.text().lines() {
        let Some(rest) = line.strip_prefix("retail_flash_reservations_total{outcome=\"") else { continue };
        if let Some((outcome, value)) = rest.split_once("\"} ") {
            out.insert(outcome.to_string(), value.trim().parse::<f64>().unwrap_or(0.0) as u64);
        }
    }
    out
}

/// A customer who got a reservation, and when.
struct Winner {
    customer: usize,
    reservation_id: i64,
    total_cents: Option<i64>,
    conn: Option<Conn>,
    answered: Instant,
}

/// The server closes a connection idle this long (actix-web's default keep-alive is 5 s):
/// older ones are not reused.
const KEEP_ALIVE: Duration = Duration::from_secs(4);

async fn bench(a: Args) -> Res<()> {
    let auth = a.authority.clone();
    let text = std::fs::read_to_string(&a.tokens).map_err(|e| format!("{}: {e}", a.tokens))?;
    let tokens: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    let customers = a.customers.unwrap_or(tokens.len());
    if customers == 0 || customers > tokens.len() {
        return Err(
            format!("{customers} customers asked for, {} tokens in {}", tokens.len(), a.tokens).into()
        );
    }
    let greedy = a.greedy.min(customers);

    // ---- set-up, not timed
    let login = call(
        &auth,
        "POST",
        "/api/auth/login",
        None,
        None,
        Some(&json!({"email": a.admin_email, "password": a.admin_password})),
    )
    .await?
    .expect(200, "admin login")?;
    let admin =
        login.get("access_token").and_then(Value::as_str).ok_or("login answer without access_token")?;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let product = call(
        &auth,
        "POST",
        "/api/admin/products",
        Some(admin),
        None,
        Some(&json!({
            "sku": format!("STAMPEDE-{}", &tag[..12]),
            "name": "Stampede drop",
            "description": "The flash-sale stampede benchmark's product.",
            "price_cents": 4000,
            "currency": "EUR",
            "category": "bench",
            "image_url": "",
            "initial_stock": a.stock,
            "active": true,
        })),
    )
    .await?
    .expect(201, "POST /api/admin/products")?;
    let product_id = product.get("id").and_then(Value::as_i64).ok_or("product answer without id")?;
    let now = Utc::now();
    let sale = call(
        &auth,
        "POST",
        "/api/admin/sales",
        Some(admin),
        Some(&format!("stampede-sale-{tag}")),
        Some(&json!({
            "name": "Stampede",
            "starts_at": (now - chrono::Duration::seconds(1)).to_rfc3339_opts(SecondsFormat::Secs, true),
            "ends_at": (now + chrono::Duration::minutes(10)).to_rfc3339_opts(SecondsFormat::Secs, true),
            "per_customer_cap": a.cap,
            "items": [{
                "product_id": product_id,
                "discount": {"kind": "percent_off", "basis_points": 5000},
                "allocated_units": a.units,
            }],
        })),
    )
    .await?
    .expect(201, "POST /api/admin/sales")?;
    let sale_id = sale.get("id").and_then(Value::as_i64).ok_or("sale answer without id")?;
    let (allocated, _, _, remaining, state) = sale_item(&auth, sale_id, product_id).await?;
    if state != "live" || allocated != i64::from(a.units) || remaining != i64::from(a.units) {
        return Err(format!(
            "sale {sale_id} before the stampede: state {state}, allocated {allocated}, remaining {remaining} \
             (expected live, {0}, {0})",
            a.units
        )
        .into());
    }
    let paid_before = paid_orders(&auth, admin).await?;
    let outcomes_before = reservation_outcomes(&auth).await;

    // who asks for what, in the order sent: customer i for 1 + i % 2 units; a greedy one
    // (the first --greedy) once more for the cap, right after its first request
    let plan: Vec<(usize, u32)> = (0..customers)
        .flat_map(|i| std::iter::once((i, 1 + (i % 2) as u32)).chain((i < greedy).then_some((i, a.cap))))
        .collect();

    // one warm connection per request
    let warm_start = Instant::now();
    let permits = Arc::new(Semaphore::new(a.connect_parallel));
    let hello = Arc::new(request(&auth, "GET", "/api/hello", None, None, None)?);
    let mut opening = Vec::with_capacity(plan.len());
    for _ in &plan {
        let (permits, auth, hello) = (permits.clone(), auth.clone(), hello.clone());
        opening.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await?;
            let mut conn = Conn::open(&auth).await?;
            let answer = conn.roundtrip(&hello).await?;
            if answer.status != 200 {
                return Err(format!("warm-up GET /api/hello answered {}", answer.status).into());
            }
            Ok::<_, Error>(conn)
        }));
    }
    let (mut conns, mut reqs, mut asked) = (Vec::new(), Vec::new(), Vec::new());
    let mut connect_errors = 0;
    let path = format!("/api/flash/sales/{sale_id}/reservations");
    for (h, &(customer, units)) in opening.into_iter().zip(&plan) {
        match h.await {
            Ok(Ok(conn)) => {
                let body = json!({"product_id": product_id, "units": units});
                reqs.push(request(&auth, "POST", &path, Some(&tokens[customer]), None, Some(&body))?);
                conns.push(conn);
                asked.push((customer, units));
            }
            Ok(Err(e)) => note(&mut connect_errors, "connection failed", &e.to_string()),
            Err(e) => note(&mut connect_errors, "connection task failed", &e.to_string()),
        }
    }
    let warm = warm_start.elapsed();
    if warm >= KEEP_ALIVE {
        eprintln!(
            "stampede: warning: opening the connections took {:.1} s; the server may have closed the first \
             ones (keep-alive): raise --connect-parallel or lower --customers",
            warm.as_secs_f64()
        );
    }
    println!(
        "stampede: sale {sale_id}: {} units of product {product_id} at 50 % off, cap {} per customer; \
         {customers} customers{} on {} warm connections, opened in {:.2} s (not timed)",
        a.units,
        a.cap,
        if greedy > 0 { format!(" ({greedy} of them twice)") } else { String::new() },
        conns.len(),
        warm.as_secs_f64(),
    );

    // ---- phase 1: the stampede
    let (shots, late_writes) = volley(conns, reqs, a.timeout).await;
    let spans: Vec<(Instant, Instant)> = shots.iter().map(|s| (s.sent, s.done)).collect();
    let (mut errors, mut s5xx, mut s429, mut retry_after, mut other, mut bad_201) = (0, 0, 0, 0, 0, 0);
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut winners = Vec::new();
    let mut held: HashMap<usize, u64> = HashMap::new();
    let mut units_mismatch = 0;
    for (shot, &(customer, units)) in shots.into_iter().zip(&asked) {
        let answer = match shot.result {
            Ok(a) => a,
            Err(e) => {
                note(&mut errors, "request failed", &e);
                continue;
            }
        };
        match answer.status {
            201 => {
                let v = answer.json();
                let (id, got) = (v.get("id").and_then(Value::as_i64), v.get("units").and_then(Value::as_u64));
                let (Some(reservation_id), Some(got)) = (id, got) else {
                    note(&mut bad_201, "201 without id or units", &answer.text());
                    continue;
                };
                if got != u64::from(units) {
                    note(&mut units_mismatch, "reservation units", &format!("asked {units}, got {got}"));
                }
                *held.entry(customer).or_default() += got;
                let total_cents = v.get("total_cents").and_then(Value::as_i64);
                winners.push(Winner {
                    customer,
                    reservation_id,
                    total_cents,
                    conn: shot.conn,
                    answered: shot.done,
                });
            }
            409 => *refused.entry(answer.code()).or_default() += 1,
            429 => {
                s429 += 1;
                retry_after += usize::from(answer.retry_after);
            }
            s if s >= 500 => note(&mut s5xx, &format!("answered {s}"), &answer.text()),
            s => note(&mut other, &format!("answered {s}"), &answer.text()),
        }
    }
    let (lat, wall, spread) = timings(&spans);
    let reserved_units: u64 = held.values().sum();
    let over_cap = held.values().filter(|&&u| u > u64::from(a.cap)).count();
    let distinct_winners = held.len();
    let outcomes = reservation_outcomes(&auth).await;

    // ---- phase 2: the winners pay, all at once, each on its own connection
    let (mut pay_conns, mut pay_reqs, mut reserved_totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut pay_errors = 0;
    for w in winners {
        let conn = match w.conn {
            Some(c) if w.answered.elapsed() < KEEP_ALIVE => c,
            // closed, or idle so long that the server may close it: a new one, not timed
            _ => match Conn::open(&auth).await {
                Ok(c) => c,
                Err(e) => {
                    note(&mut pay_errors, "reconnect", &e.to_string());
                    continue;
                }
            },
        };
        let key = uuid::Uuid::new_v4().to_string();
        let body = json!({"reservation_id": w.reservation_id, "card_token": "tok_visa"});
        pay_reqs.push(request(
            &auth,
            "POST",
            "/api/checkout",
            Some(&tokens[w.customer]),
            Some(&key),
            Some(&body),
        )?);
        pay_conns.push(conn);
        reserved_totals.push(w.total_cents);
    }
    let pay_sent = pay_reqs.len() + pay_errors;
    let (payments, _) = volley(pay_conns, pay_reqs, a.timeout).await;
    let pay_spans: Vec<(Instant, Instant)> = payments.iter().map(|p| (p.sent, p.done)).collect();
    let (mut pay_ok, mut pay_paid, mut pay_5xx, mut pay_other, mut pay_total_mismatch) = (0, 0, 0, 0, 0);
    let mut captured_cents = 0i64;
    for (p, reserved_total) in payments.into_iter().zip(reserved_totals) {
        match p.result {
            Err(e) => note(&mut pay_errors, "payment failed", &e),
            Ok(answer) if answer.status == 201 => {
                pay_ok += 1;
                let order = answer.json();
                if order.get("state").and_then(Value::as_str) == Some("paid") {
                    pay_paid += 1;
                }
                let total = order.get("total_cents").and_then(Value::as_i64);
                captured_cents += total.unwrap_or(0);
                if total.is_none() || total != reserved_total {
                    let detail = format!("{total:?} vs {reserved_total:?}");
                    note(&mut pay_total_mismatch, "order total differs from the reservation's", &detail);
                }
            }
            Ok(answer) if answer.status >= 500 => {
                note(&mut pay_5xx, &format!("checkout answered {}", answer.status), &answer.text())
            }
            Ok(answer) => {
                note(&mut pay_other, &format!("checkout answered {}", answer.status), &answer.text())
            }
        }
    }
    let (pay_lat, pay_wall, _) = timings(&pay_spans);

    // ---- read back
    let (allocated, sold, reserved, remaining, state) = sale_item(&auth, sale_id, product_id).await?;
    let paid_after = paid_orders(&auth, admin).await?;
    let paid_in_db = paid_after.saturating_sub(paid_before);

    let answered = spans.len() - errors;
    println!(
        "stampede: {} requests sent within {spread:.1} ms ({late_writes} finished late); {answered} answered, \
         the last {wall:.1} ms after the first was sent",
        spans.len()
    );
    println!(
        "  201 reserved     {:>6}  ({reserved_units} units, {distinct_winners} customers, {over_cap} over the cap)",
        pay_sent
    );
    for (code, n) in &refused {
        println!("  409 {code:<12} {n:>6}");
    }
    println!("  429 rate_limited {s429:>6}  ({retry_after} with Retry-After)");
    println!("  5xx              {s5xx:>6}");
    println!("  other status     {other:>6}");
    println!(
        "  no answer        {errors:>6}  (+ {connect_errors} connections that failed before the release)"
    );
    println!(
        "  latency ms       p50 {:.1}  p99 {:.1}  max {:.1}",
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        percentile(&lat, 100.0)
    );
    let delta: Vec<String> = outcomes
        .iter()
        .map(|(k, v)| format!("{k} {}", v.saturating_sub(outcomes_before.get(k).copied().unwrap_or(0))))
        .collect();
    if !delta.is_empty() {
        println!("  server's count   {}", delta.join(", "));
    }
    println!(
        "pay: {pay_sent} winners paid at once: {pay_ok} x 201 ({pay_paid} paid), {pay_5xx} x 5xx, {pay_other} other, \
         {pay_errors} unanswered; {captured_cents} cents charged; all answered in {pay_wall:.1} ms, \
         p50 {:.1} ms, p99 {:.1} ms",
        percentile(&pay_lat, 50.0),
        percentile(&pay_lat, 99.0)
    );
    println!(
        "sale after: {state}, allocated {allocated}, sold {sold}, reserved {reserved}, remaining {remaining}; \
         {paid_in_db} new paid orders in the database"
    );
    let refused_n = |code: &str| refused.get(code).copied().unwrap_or(0);
    let other409: usize = refused
        .iter()
        .filter(|(c, _)| {
            !matches!(c.as_str(), "sold_out" | "cap_reached" | "only_left" | "over_cap" | "sale_not_live")
        })
        .map(|(_, n)| n)
        .sum();
    println!(
        "STAMPEDE customers={customers} greedy={greedy} requests={} connect_errors={connect_errors} \
         answered={answered} errors={errors} winners={pay_sent} distinct_winners={distinct_winners} \
         reserved_units={reserved_units} over_cap_customers={over_cap} units_mismatch={units_mismatch} \
         bad_201={bad_201} sold_out={} cap_reached={} only_left={} over_cap={} sale_not_live={} \
         other409={other409} s429={s429} s5xx={s5xx} other={other} wall_ms={wall:.1} spread_ms={spread:.1} \
         late_writes={late_writes} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} warm_s={:.2} pay_sent={pay_sent} \
         pay_ok={pay_ok} pay_paid={pay_paid} pay_5xx={pay_5xx} pay_other={pay_other} pay_errors={pay_errors} \
         pay_total_mismatch={pay_total_mismatch} pay_wall_ms={pay_wall:.1} pay_p50_ms={:.1} pay_p99_ms={:.1} \
         captured_cents={captured_cents} allocated={allocated} sold={sold} reserved={reserved} \
         remaining={remaining} paid_in_db={paid_in_db} sale_id={sale_id} product_id={product_id} cap={}",
        plan.len(),
        refused_n("sold_out"),
        refused_n("cap_reached"),
        refused_n("only_left"),
        refused_n("over_cap"),
        refused_n("sale_not_live"),
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        percentile(&lat, 100.0),
        warm.as_secs_f64(),
        percentile(&pay_lat, 50.0),
        percentile(&pay_lat, 99.0),
        a.cap,
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stampede: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(bench(args)),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stampede: {e}");
            ExitCode::from(2)
        }
    }
}
