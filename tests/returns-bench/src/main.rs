//! The returns (RMA) benchmark, the load side of `tests/bench_returns.sh`.
//!
//! Set-up, not timed: signs the staff in (admin, support, warehouse, finance), creates
//! `--products` products, and gives each of `--returns` customers (signed in beforehand by
//! `retail bench-data`, their tokens in `--tokens`) one delivered order: a store-credit grant
//! by finance for about a quarter of them, a cart of one or two lines, a checkout by card
//! (partly with that credit), shipped and delivered by the admin. Then it reads each product's
//! stock, each customer's store credit and the return figures.
//!
//! The timed phase: every return's whole lifecycle at once, one task per return, at most
//! `--concurrency` requests in flight (each on a keep-alive connection of a pool of that
//! size): the customer requests the return (201, `validating`), support approves, the
//! customer ships, the warehouse receives, starts the inspection and records the condition
//! (resellable or damaged), finance decides the disposition (refund 40 %, store credit 20 %,
//! replacement 15 %, repair 15 %, reject 10 %, in every block of 20 returns; a quarter of the
//! refunds and credits for less than the most allowed) and processes it; a repair or a
//! rejection is then completed by the warehouse (shipped back; returned to the customer or
//! disposed of). Every `--dup-every`th return is processed by `--dup-calls` concurrent
//! requests on the same version: exactly one must win (200), the others must get 409. Each
//! action must answer its documented status with the next stage; anything else (any 5xx above
//! all) fails the return. `wall_ms` runs from the first request to the last answer; each step's
//! latencies (request sent to answer read) give p50/p99/max.
//!
//! Then, not timed, the checks: every return completed with the disposition, condition and
//! amount decided (the amount the most allowed: the estimate's net after the restocking fee,
//! which must follow the default fee table, unless a smaller one was asked); each refund split
//! across card and store credit in proportion to how the order was paid; the change in the
//! return figures equal to what the dispositions decided (card + credit refunds = the refund
//! amounts, credit granted = the store-credit amounts, restocked units = the resellable units
//! of refunds, credits and replacements, replacement orders = replacements); each product's
//! stock = before + restocked - replaced; each customer's store credit = before + the credit
//! part of their refund + their store credit; `GET /api/staff/reconciliation` clean with no
//! return discrepancy. Prints a report and one summary line `RETURNS key=value ...` for the
//! script. Exits 0 when every check passed, 1 when one failed, 2 when the benchmark could not
//! run (bad arguments, set-up refused).

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, Error>;

const USAGE: &str = "\
usage: retail-returns-bench --base http://127.0.0.1:PORT --tokens FILE [options]
  --base URL               the server, on this machine (127.0.0.1, localhost or [::1])
  --tokens FILE            customers' access tokens, one a line (retail bench-data --tokens-out);
                           one customer per return
  --returns N              returns driven through their lifecycle at once (200)
  --concurrency N          requests in flight at most, one keep-alive connection each (32)
  --products N             products the orders are made of (8)
  --stock N                initial stock of each product (1000)
  --dup-every N            every Nth return is processed by concurrent duplicate calls; 0: none (10)
  --dup-calls N            concurrent `process` calls on such a return (4)
  --seed N                 seed of the mix of reasons, conditions, orders and amounts (2026)
  --account ROLE:EMAIL:PASSWORD
                           a staff account (admin, support, warehouse, finance; default: the
                           demo accounts of `retail seed`)
  --threads N              client runtime threads (2)
  --timeout-ms N           per request; a request without an answer by then is an error (30000)
  --max-phase-ms N         the timed phase is stopped (and fails) after this long (120000)";

const STEPS: [&str; 9] =
    ["submit", "approve", "ship", "receive", "start_inspection", "inspect", "decide", "process", "complete"];

struct Args {
    authority: String,
    tokens: String,
    returns: usize,
    concurrency: usize,
    products: usize,
    stock: i64,
    dup_every: usize,
    dup_calls: usize,
    seed: u64,
    accounts: BTreeMap<String, (String, String)>,
    threads: usize,
    timeout: Duration,
    max_phase: Duration,
}

fn num<T: FromStr>(flag: &str, value: &str) -> Res<T> {
    value.parse().map_err(|_| format!("{flag}: not a number: {value}").into())
}

/// `None` when only the usage was asked for.
fn parse_args() -> Res<Option<Args>> {
    let mut base = None;
    let demo = [
        ("admin", "admin@retail.test", "demo-Kestrel-2026"),
        ("support", "support@retail.test", "demo-Heron-2026"),
        ("warehouse", "warehouse@retail.test", "demo-Osprey-2026"),
        ("finance", "finance@retail.test", "demo-Falcon-2026"),
    ];
    let mut a = Args {
        authority: String::new(),
        tokens: String::new(),
        returns: 200,
        concurrency: 32,
        products: 8,
        stock: 1000,
        dup_every: 10,
        dup_calls: 4,
        seed: 2026,
        accounts: demo.iter().map(|(r, e, p)| (r.to_string(), (e.to_string(), p.to_string()))).collect(),
        threads: 2,
        timeout: Duration::from_secs(30),
        max_phase: Duration::from_secs(120),
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
            "--returns" => a.returns = num(&flag, &v)?,
            "--concurrency" => a.concurrency = num::<usize>(&flag, &v)?.max(1),
            "--products" => a.products = num::<usize>(&flag, &v)?.max(1),
            "--stock" => a.stock = num(&flag, &v)?,
            "--dup-every" => a.dup_every = num(&flag, &v)?,
            "--dup-calls" => a.dup_calls = num::<usize>(&flag, &v)?.max(2),
            "--seed" => a.seed = num(&flag, &v)?,
            "--account" => {
                let mut parts = v.splitn(3, ':');
                let (Some(role), Some(email), Some(password)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(format!("--account wants ROLE:EMAIL:PASSWORD, got {v}").into());
                };
                if !a.accounts.contains_key(role) {
                    return Err(format!("--account: unknown role {role}").into());
                }
                a.accounts.insert(role.to_string(), (email.to_string(), password.to_string()));
            }
            "--threads" => a.threads = num::<usize>(&flag, &v)?.max(1),
            "--timeout-ms" => a.timeout = Duration::from_millis(num(&flag, &v)?),
            "--max-phase-ms" => a.max_phase = Duration::from_millis(num(&flag, &v)?),
            _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
        }
    }
    let base = base.ok_or_else(|| format!("--base is required\n{USAGE}"))?;
    let authority =
        base.strip_prefix("http://").ok_or("--base must be an http:// URL")?.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err("--base must be http://HOST:PORT, without a path".into());
    }
    // a load test of this machine's own server only
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("--base must be a loopback address (127.0.0.1), not {host}").into());
    }
    a.authority = authority.to_string();
    if a.tokens.is_empty() {
        return Err(format!("--tokens is required\n{USAGE}").into());
    }
    if a.returns == 0 {
        return Err("--returns must be at least 1".into());
    }
    Ok(Some(a))
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 by hand over a pool of keep-alive connections (actix sends a Content-Length with
// every answer); the answers are read with httparse, as in tests/stampede

/// An answer, read to its end.
struct Answer {
    status: u16,
    /// The server said `connection: close`: the connection is not reused.
    close: bool,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        let t = String::from_utf8_lossy(&self.body);
        if t.len() > 600 { format!("{}...", &t[..t.floor_char_boundary(600)]) } else { t.into_owned() }
    }

    /// The problem's `code`, `?` when there is none.
    fn code(&self) -> String {
        self.json().get("code").and_then(Value::as_str).unwrap_or("?").to_string()
    }
}

/// Encodes a request.
fn encode(
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

/// One keep-alive connection, with the bytes read past the last answer and when it was last
/// used.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    used: Instant,
}

/// The server closes a connection idle this long (actix-web's default keep-alive is 5 s):
/// older ones are not reused.
const KEEP_ALIVE: Duration = Duration::from_secs(4);

impl Conn {
    async fn open(authority: &str) -> Res<Conn> {
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(8192), used: Instant::now() })
    }

    async fn fill(&mut self) -> Res<()> {
        self.buf.reserve(8192);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }

    async fn roundtrip(&mut self, req: &[u8]) -> Res<Answer> {
        self.stream.write_all(req).await?;
        loop {
            let parsed = {
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.buf)? {
                    httparse::Status::Partial => None,
                    httparse::Status::Complete(head) => {
                        let status = resp.code.ok_or("an answer without a status")?;
                        let (mut length, mut close) = (0, false);
                        for h in resp.headers.iter() {
                            if h.name.eq_ignore_ascii_case("content-length") {
                                length = std::str::from_utf8(h.value)?.trim().parse::<usize>()?;
                            } else if h.name.eq_ignore_ascii_case("connection") {
                                close = h.value.eq_ignore_ascii_case(b"close");
                            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                                return Err("a chunked answer (not supported here)".into());
                            }
                        }
                        Some((status, head, length, close))
                    }
                }
            };
            match parsed {
                None => self.fill().await?,
                Some((status, head, length, close)) => {
                    while self.buf.len() < head + length {
                        self.fill().await?;
                    }
                    let body = self.buf[head..head + length].to_vec();
                    self.buf.drain(..head + length);
                    return Ok(Answer { status, close, body });
                }
            }
        }
    }
}

/// At most `permits` requests in flight, each on a pooled keep-alive connection.
struct Client {
    authority: String,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
    timeout: Duration,
}

impl Client {
    fn new(authority: &str, concurrency: usize, timeout: Duration) -> Client {
        Client {
            authority: authority.to_string(),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(concurrency),
            timeout,
        }
    }

    fn take(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(c) = idle.pop() {
            if c.used.elapsed() < KEEP_ALIVE {
                return Some(c);
            }
        }
        None
    }

    fn give(&self, mut conn: Conn) {
        conn.used = Instant::now();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
    }

    /// Sends one request; the answer and its latency in ms (from the first byte sent to the
    /// last byte read: waiting for a permit or a connection is not counted).
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> Res<(Answer, f64)> {
        let req = encode(&self.authority, method, path, token, idempotency_key, body)?;
        let _permit = self.permits.acquire().await?;
        let mut conn = match self.take() {
            Some(c) => c,
            None => {
                Conn::open(&self.authority).await.map_err(|e| format!("{method} {path}: connect: {e}"))?
            }
        };
        let start = Instant::now();
        let result = tokio::time::timeout(self.timeout, conn.roundtrip(&req)).await;
        let elapsed = ms(start.elapsed());
        match result {
            Err(_) => {
                Err(format!("{method} {path}: no answer within {} ms", self.timeout.as_millis()).into())
            }
            Ok(Err(e)) => Err(format!("{method} {path}: {e}").into()),
            Ok(Ok(answer)) => {
                if !answer.close {
                    self.give(conn);
                }
                Ok((answer, elapsed))
            }
        }
    }

    /// Sends one request and wants `status` (set-up and read-back calls).
    async fn expect(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
        status: u16,
    ) -> Res<Value> {
        let (a, _) = self.send(method, path, token, idempotency_key, body).await?;
        if a.status == status {
            Ok(a.json())
        } else {
            Err(format!("{method} {path}: answered {} (expected {status}): {}", a.status, a.text()).into())
        }
    }
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

/// SplitMix64: a small seeded generator, so that a run with the same seed makes the same mix.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

// ---------------------------------------------------------------------------------------------
// the plan: what each return is made of and what finance decides

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Disp {
    Refund,
    StoreCredit,
    Replacement,
    Repair,
    Reject,
}

impl Disp {
    const ALL: [Disp; 5] = [Disp::Refund, Disp::StoreCredit, Disp::Replacement, Disp::Repair, Disp::Reject];

    fn name(self) -> &'static str {
        match self {
            Disp::Refund => "refund",
            Disp::StoreCredit => "store_credit",
            Disp::Replacement => "replacement",
            Disp::Repair => "repair",
            Disp::Reject => "reject",
        }
    }

    /// Return `i`'s disposition: 8 refunds, 4 store credits, 3 replacements, 3 repairs and 2
    /// rejections in every block of 20 returns, interleaved (7 is prime to 20).
    fn of(i: usize) -> Disp {
        match (i * 7) % 20 {
            0..=7 => Disp::Refund,
            8..=11 => Disp::StoreCredit,
            12..=14 => Disp::Replacement,
            15..=17 => Disp::Repair,
            _ => Disp::Reject,
        }
    }

    fn moves_money(self) -> bool {
        matches!(self, Disp::Refund | Disp::StoreCredit)
    }

    /// Whether resellable goods go back into stock (the shop keeps them).
    fn keeps_goods(self) -> bool {
        matches!(self, Disp::Refund | Disp::StoreCredit | Disp::Replacement)
    }
}

const REASONS: [&str; 5] =
    ["defective", "no_longer_needed", "not_as_described", "better_price_elsewhere", "damaged_in_transit"];

/// The default restocking fee in basis points (crates/domain rma::FeePolicy::default_bps),
/// for the conditions this benchmark records.
fn default_fee_bps(reason: &str, condition: &str) -> i64 {
    let shop_fault = matches!(reason, "damaged_in_transit" | "defective" | "wrong_item" | "not_as_described");
    match (condition, shop_fault) {
        (_, true) => 0,
        ("resellable", false) => 1_500,
        _ => 5_000,
    }
}

/// One customer's order and the return made of it.
struct Case {
    i: usize,
    token: String,
    user_id: i64,
    order_id: i64,
    order_card_cents: i64,
    order_credit_cents: i64,
    line_id: i64,
    product_id: i64,
    unit_price_cents: i64,
    quantity: i64,
    reason: &'static str,
    condition: &'static str,
    disposition: Disp,
    /// The share (in %) of the most allowed to refund or credit, when less than all of it.
    partial_pct: Option<i64>,
    /// How a repair or rejection ends.
    outcome: Option<&'static str>,
    /// Processed by concurrent duplicate calls.
    dup: bool,
}

/// What a customer's order is made of, before the order exists.
struct Draft {
    /// (product index, units); the first line is the one returned.
    lines: Vec<(usize, i64)>,
    returned_qty: i64,
    grant_cents: i64,
    reason: &'static str,
    condition: &'static str,
    partial_pct: Option<i64>,
    outcome: Option<&'static str>,
}

fn draft(rng: &mut Rng, i: usize, products: usize) -> Draft {
    let p = products as u64;
    let first = rng.below(p) as usize;
    let qty = 1 + rng.below(2) as i64;
    let mut lines = vec![(first, qty)];
    if products > 1 && rng.below(2) == 0 {
        let second = (first + 1 + rng.below(p - 1) as usize) % products;
        lines.push((second, 1));
    }
    let returned_qty = if qty == 2 && rng.below(3) == 0 { 1 } else { qty };
    let grant_cents = if rng.below(4) == 0 { 500 + 100 * rng.below(26) as i64 } else { 0 };
    let reason = REASONS[rng.below(REASONS.len() as u64) as usize];
    let condition = if rng.below(3) == 0 { "damaged" } else { "resellable" };
    let d = Disp::of(i);
    let partial_pct = (d.moves_money() && rng.below(4) == 0).then(|| 25 + rng.below(51) as i64);
    let outcome = match d {
        Disp::Repair => Some("shipped_back"),
        Disp::Reject => Some(if rng.below(2) == 0 { "returned_to_customer" } else { "disposed" }),
        _ => None,
    };
    Draft { lines, returned_qty, grant_cents, reason, condition, partial_pct, outcome }
}

// ---------------------------------------------------------------------------------------------
// set-up, not timed

struct Staff {
    admin: String,
    support: String,
    warehouse: String,
    finance: String,
}

async fn login(client: &Client, accounts: &BTreeMap<String, (String, String)>, role: &str) -> Res<String> {
    let (email, password) = accounts.get(role).ok_or_else(|| format!("no {role} account"))?;
    let v = client
        .expect(
            "POST",
            "/api/auth/login",
            None,
            None,
            Some(&json!({"email": email, "password": password})),
            200,
        )
        .await
        .map_err(|e| format!("{role} login: {e}"))?;
    Ok(v.get("access_token").and_then(Value::as_str).ok_or("login answer without access_token")?.to_string())
}

fn int(v: &Value, key: &str, what: &str) -> Res<i64> {
    v.get(key).and_then(Value::as_i64).ok_or_else(|| format!("{what} without {key}: {v}").into())
}

/// Gives customer `i` its delivered order (and the credit grant first); the case to return.
async fn prepare(
    client: Arc<Client>,
    staff: Arc<Staff>,
    i: usize,
    token: String,
    draft: Draft,
    products: Arc<Vec<(i64, i64)>>,
) -> Res<(Case, i64)> {
    let me = client.expect("GET", "/api/auth/me", Some(&token), None, None, 200).await?;
    let user_id = int(&me, "id", "GET /api/auth/me")?;
    if draft.grant_cents > 0 {
        let key = uuid::Uuid::new_v4().to_string();
        let body = json!({"user_id": user_id, "amount_cents": draft.grant_cents, "reason": "returns bench goodwill"});
        client
            .expect("POST", "/api/staff/credit", Some(&staff.finance), Some(&key), Some(&body), 201)
            .await?;
    }
    client.expect("DELETE", "/api/cart", Some(&token), None, None, 200).await?;
    let mut total = 0;
    for &(p, qty) in &draft.lines {
        let (id, price) = products[p];
        let body = json!({"product_id": id, "quantity": qty});
        client.expect("POST", "/api/cart/lines", Some(&token), None, Some(&body), 200).await?;
        total += price * qty;
    }
    // some store credit (at most a third of the order), the rest by card
    let use_credit = draft.grant_cents.min(total / 3);
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"card_token": "tok_visa", "use_credit_cents": use_credit});
    let order = client.expect("POST", "/api/checkout", Some(&token), Some(&key), Some(&body), 201).await?;
    let order_id = int(&order, "id", "order")?;
    let (card, credit) = (int(&order, "card_cents", "order")?, int(&order, "credit_cents", "order")?);
    if credit != use_credit || card + credit != total {
        return Err(format!(
            "order {order_id}: card {card} + credit {credit}, expected {} + {use_credit}",
            total - use_credit
        )
        .into());
    }
    let (product_id, unit_price_cents) = products[draft.lines[0].0];
    let line = order
        .get("lines")
        .and_then(Value::as_array)
        .and_then(|ls| ls.iter().find(|l| l.get("product_id").and_then(Value::as_i64) == Some(product_id)))
        .ok_or_else(|| format!("order {order_id} without a line of product {product_id}"))?;
    let line_id = int(line, "id", "order line")?;
    let ship = json!({"carrier": "DHL", "tracking": format!("RBO{order_id}")});
    let path = format!("/api/staff/orders/{order_id}/ship");
    client.expect("POST", &path, Some(&staff.admin), None, Some(&ship), 200).await?;
    let path = format!("/api/staff/orders/{order_id}/deliver");
    client.expect("POST", &path, Some(&staff.admin), None, None, 200).await?;
    let credit_account = client.expect("GET", "/api/credit", Some(&token), None, None, 200).await?;
    let balance = int(&credit_account, "balance_cents", "GET /api/credit")?;
    Ok((
        Case {
            i,
            token,
            user_id,
            order_id,
            order_card_cents: card,
            order_credit_cents: credit,
            line_id,
            product_id,
            unit_price_cents,
            quantity: draft.returned_qty,
            reason: draft.reason,
            condition: draft.condition,
            disposition: Disp::of(i),
            partial_pct: draft.partial_pct,
            outcome: draft.outcome,
            dup: false,
        },
        balance,
    ))
}

async fn stock_of(client: &Client, product: i64) -> Res<i64> {
    let p = client.expect("GET", &format!("/api/products/{product}"), None, None, None, 200).await?;
    int(&p, "stock", "product")
}

// ---------------------------------------------------------------------------------------------
// the timed phase: one return's lifecycle

/// Why a return's lifecycle stopped.
#[derive(Debug)]
struct Failure {
    i: usize,
    step: &'static str,
    /// The status answered, if any (none: no answer).
    status: Option<u16>,
    detail: String,
}

/// One return driven to its end.
struct Done {
    i: usize,
    rma_id: i64,
    /// (step, latency ms) of each step's (winning) request.
    lat: Vec<(usize, f64)>,
    /// Requests sent, duplicates included.
    requests: usize,
    /// The duplicate `process` calls: (status, problem code) of each.
    dup: Option<Vec<(u16, String)>>,
}

/// One step: sends `body` to `path` as `token`, wants `status` and the return in stage `stage`.
#[allow(clippy::too_many_arguments)]
async fn step(
    client: &Client,
    case: &Case,
    step: usize,
    path: &str,
    token: &str,
    body: &Value,
    status: u16,
    stage: &str,
    lat: &mut Vec<(usize, f64)>,
) -> Result<Value, Failure> {
    let fail = |status: Option<u16>, detail: String| Failure { i: case.i, step: STEPS[step], status, detail };
    let (a, t) = client
        .send("POST", path, Some(token), None, Some(body))
        .await
        .map_err(|e| fail(None, e.to_string()))?;
    lat.push((step, t));
    if a.status != status {
        return Err(fail(Some(a.status), format!("POST {path} {body} -> {} {}", a.status, a.text())));
    }
    let v = a.json();
    let got = v.get("stage").and_then(Value::as_str).unwrap_or("?");
    if got != stage {
        return Err(fail(Some(a.status), format!("POST {path} {body} -> stage {got}, expected {stage}")));
    }
    Ok(v)
}

fn version(v: &Value) -> i64 {
    v.get("version").and_then(Value::as_i64).unwrap_or(-1)
}

async fn lifecycle(
    client: Arc<Client>,
    staff: Arc<Staff>,
    case: Arc<Case>,
    dup_calls: usize,
) -> Result<Done, Failure> {
    let c = &*case;
    let mut lat = Vec::with_capacity(STEPS.len());
    let body = json!({
        "order_id": c.order_id,
        "lines": [{"order_line_id": c.line_id, "quantity": c.quantity}],
        "reason": c.reason,
        "description": "returns bench",
    });
    let rma = step(&client, c, 0, "/api/returns", &c.token, &body, 201, "validating", &mut lat).await?;
    let id = rma.get("id").and_then(Value::as_i64).ok_or_else(|| Failure {
        i: c.i,
        step: STEPS[0],
        status: Some(201),
        detail: format!("a return without id: {rma}"),
    })?;
    let path = format!("/api/returns/{id}/actions");
    let act = |action: &str, v: &Value, extra: Value| {
        let mut body = json!({"action": action, "version": version(v)});
        if let (Some(b), Value::Object(x)) = (body.as_object_mut(), extra) {
            b.extend(x);
        }
        body
    };
    let v = step(
        &client,
        c,
        1,
        &path,
        &staff.support,
        &act("approve", &rma, json!({})),
        200,
        "approved",
        &mut lat,
    )
    .await?;
    let ship = json!({"carrier": "UPS", "tracking": format!("RB{id}")});
    let v = step(&client, c, 2, &path, &c.token, &act("ship", &v, ship), 200, "shipping", &mut lat).await?;
    let v = step(
        &client,
        c,
        3,
        &path,
        &staff.warehouse,
        &act("receive", &v, json!({})),
        200,
        "received",
        &mut lat,
    )
    .await?;
    let v = step(
        &client,
        c,
        4,
        &path,
        &staff.warehouse,
        &act("start_inspection", &v, json!({})),
        200,
        "inspecting",
        &mut lat,
    )
    .await?;
    let inspect = json!({"condition": c.condition, "note": "checked by the returns bench"});
    let v = step(
        &client,
        c,
        5,
        &path,
        &staff.warehouse,
        &act("inspect", &v, inspect),
        200,
        "inspected",
        &mut lat,
    )
    .await?;
    let mut decide = json!({"disposition": c.disposition.name()});
    if let Some(pct) = c.partial_pct {
        let net = v.pointer("/estimate/net").and_then(Value::as_i64).unwrap_or(0);
        decide["amount_cents"] = json!((net * pct / 100).max(1));
    }
    if c.disposition == Disp::Reject {
        decide["note"] = json!("worn, not as claimed");
    }
    let v =
        step(&client, c, 6, &path, &staff.finance, &act("decide", &v, decide), 200, "disposition", &mut lat)
            .await?;
    let processed = if c.disposition.keeps_goods() { "completed" } else { "processing" };
    let process = act("process", &v, json!({}));
    let mut requests = lat.len();
    let (v, dup) = if c.dup {
        // the same `process` from several finance clerks at once: exactly one may win
        let mut calls = Vec::with_capacity(dup_calls);
        for _ in 0..dup_calls {
            let (client, token, path, body) =
                (client.clone(), staff.finance.clone(), path.clone(), process.clone());
            calls.push(tokio::spawn(async move {
                client.send("POST", &path, Some(&token), None, Some(&body)).await.map_err(|e| e.to_string())
            }));
        }
        let (mut winner, mut outcomes) = (None, Vec::with_capacity(dup_calls));
        for call in calls {
            requests += 1;
            let (a, t) = match call.await {
                Ok(Ok(x)) => x,
                Ok(Err(e)) => return Err(Failure { i: c.i, step: STEPS[7], status: None, detail: e }),
                Err(e) => {
                    return Err(Failure { i: c.i, step: STEPS[7], status: None, detail: e.to_string() });
                }
            };
            outcomes.push((a.status, a.code()));
            match a.status {
                200 if winner.is_none() => {
                    lat.push((7, t));
                    winner = Some(a.json());
                }
                200 | 409 => {}
                s => {
                    return Err(Failure {
                        i: c.i,
                        step: STEPS[7],
                        status: Some(s),
                        detail: format!(
                            "POST {path} {process} (one of {dup_calls} at once) -> {s} {}",
                            a.text()
                        ),
                    });
                }
            }
        }
        let wins = outcomes.iter().filter(|(s, _)| *s == 200).count();
        let Some(v) = winner.filter(|_| wins == 1) else {
            return Err(Failure {
                i: c.i,
                step: STEPS[7],
                status: Some(if wins == 0 { 409 } else { 200 }),
                detail: format!(
                    "{dup_calls} concurrent process calls on version {}: {outcomes:?}",
                    version(&v)
                ),
            });
        };
        let got = v.get("stage").and_then(Value::as_str).unwrap_or("?");
        if got != processed {
            return Err(Failure {
                i: c.i,
                step: STEPS[7],
                status: Some(200),
                detail: format!("process -> stage {got}, expected {processed}"),
            });
        }
        (v, Some(outcomes))
    } else {
        requests += 1;
        (step(&client, c, 7, &path, &staff.finance, &process, 200, processed, &mut lat).await?, None)
    };
    if let Some(outcome) = c.outcome {
        let mut extra = json!({"outcome": outcome});
        if outcome != "disposed" {
            extra["carrier"] = json!("DHL");
            extra["tracking"] = json!(format!("RBB{id}"));
        }
        requests += 1;
        step(&client, c, 8, &path, &staff.warehouse, &act("complete", &v, extra), 200, "completed", &mut lat)
            .await?;
    }
    Ok(Done { i: c.i, rma_id: id, lat, requests, dup })
}

// ---------------------------------------------------------------------------------------------
// the checks

struct Checks(Vec<(&'static str, bool, String)>);

impl Checks {
    fn add(&mut self, name: &'static str, ok: bool, detail: String) {
        self.0.push((name, ok, detail));
    }

    /// A check that holds when `problems` is empty; the first few are shown.
    fn all(&mut self, name: &'static str, total: usize, problems: &[String]) {
        let detail = if problems.is_empty() {
            format!("{total} of {total}")
        } else {
            let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
            format!("{} of {total} wrong, e.g. {}", problems.len(), shown.join("; "))
        };
        self.add(name, problems.is_empty(), detail);
    }

    fn failed(&self) -> usize {
        self.0.iter().filter(|(_, ok, _)| !ok).count()
    }
}

/// What the return figures count (`GET /api/staff/returns/figures`).
const FIGURES: [&str; 5] = [
    "refunded_card_cents",
    "refunded_credit_cents",
    "credit_granted_cents",
    "restocked_units",
    "replacements",
];

async fn figures(client: &Client, finance: &str) -> Res<BTreeMap<&'static str, i64>> {
    let f = client.expect("GET", "/api/staff/returns/figures", Some(finance), None, None, 200).await?;
    FIGURES.iter().map(|k| Ok((*k, int(&f, k, "the return figures")?))).collect()
}

// ---------------------------------------------------------------------------------------------
// the benchmark

async fn bench(a: Args) -> Res<bool> {
    let client = Arc::new(Client::new(&a.authority, a.concurrency, a.timeout));
    let text = std::fs::read_to_string(&a.tokens).map_err(|e| format!("{}: {e}", a.tokens))?;
    let tokens: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    if tokens.len() < a.returns {
        return Err(
            format!("{} returns asked for, {} tokens in {}", a.returns, tokens.len(), a.tokens).into()
        );
    }

    // ---- set-up, not timed
    let setup_start = Instant::now();
    let staff = Arc::new(Staff {
        admin: login(&client, &a.accounts, "admin").await?,
        support: login(&client, &a.accounts, "support").await?,
        warehouse: login(&client, &a.accounts, "warehouse").await?,
        finance: login(&client, &a.accounts, "finance").await?,
    });
    let tag = uuid::Uuid::new_v4().simple().to_string();
    const PRICES: [i64; 8] = [1_999, 2_450, 999, 12_995, 3_333, 4_999, 755, 18_900];
    let mut products = Vec::with_capacity(a.products);
    for k in 0..a.products {
        let price = PRICES[k % PRICES.len()] + 100 * (k / PRICES.len()) as i64;
        let body = json!({
            "sku": format!("RB-{}-{k}", &tag[..10]),
            "name": format!("Returns bench item {k}"),
            "description": "The returns benchmark's product.",
            "price_cents": price,
            "currency": "EUR",
            "category": "bench",
            "initial_stock": a.stock,
        });
        let p =
            client.expect("POST", "/api/admin/products", Some(&staff.admin), None, Some(&body), 201).await?;
        products.push((int(&p, "id", "product")?, price));
    }
    let products = Arc::new(products);
    let mut rng = Rng(a.seed);
    let mut preparing = Vec::with_capacity(a.returns);
    for (i, token) in tokens.into_iter().take(a.returns).enumerate() {
        let d = draft(&mut rng, i, a.products);
        let (client, staff, products) = (client.clone(), staff.clone(), products.clone());
        preparing.push(tokio::spawn(prepare(client, staff, i, token, d, products)));
    }
    let mut cases = Vec::with_capacity(a.returns);
    let mut credit_before = HashMap::new();
    for p in preparing {
        let (mut case, balance) = p.await?.map_err(|e| format!("set-up: {e}"))?;
        case.dup = a.dup_every > 0 && case.i % a.dup_every == a.dup_every / 2;
        credit_before.insert(case.user_id, balance);
        cases.push(Arc::new(case));
    }
    let mut stock_before = BTreeMap::new();
    for &(id, _) in products.iter() {
        stock_before.insert(id, stock_of(&client, id).await?);
    }
    let figures_before = figures(&client, &staff.finance).await?;
    let granted = cases.iter().filter(|c| c.order_credit_cents > 0).count();
    println!(
        "returns-bench: {} customers with a delivered order each ({granted} paid partly with store credit), \
         {} products, set up in {:.1} s (not timed)",
        cases.len(),
        products.len(),
        setup_start.elapsed().as_secs_f64()
    );

    // ---- the timed phase: every lifecycle at once
    let start = Instant::now();
    let mut running = Vec::with_capacity(cases.len());
    for case in &cases {
        let (client, staff, case) = (client.clone(), staff.clone(), case.clone());
        running.push(tokio::spawn(lifecycle(client, staff, case, a.dup_calls)));
    }
    let deadline = tokio::time::Instant::now() + a.max_phase;
    let (mut done, mut failures, mut timed_out) = (Vec::new(), Vec::new(), 0);
    for (i, h) in running.iter_mut().enumerate() {
        match tokio::time::timeout_at(deadline, h).await {
            Ok(Ok(Ok(d))) => done.push(d),
            Ok(Ok(Err(f))) => failures.push(f),
            Ok(Err(e)) => failures.push(Failure { i, step: "task", status: None, detail: e.to_string() }),
            Err(_) => timed_out += 1,
        }
    }
    for h in &running {
        h.abort();
    }
    let wall = ms(start.elapsed());

    // ---- what the phase did
    let requests: usize = done.iter().map(|d| d.requests).sum();
    let mut per_step: Vec<Vec<f64>> = vec![Vec::new(); STEPS.len()];
    for d in &done {
        for &(s, t) in &d.lat {
            per_step[s].push(t);
        }
    }
    for l in &mut per_step {
        l.sort_by(f64::total_cmp);
    }
    let s5xx = failures.iter().filter(|f| f.status.is_some_and(|s| s >= 500)).count();
    let no_answer = failures.iter().filter(|f| f.status.is_none()).count();
    let unexpected = failures.len() - s5xx - no_answer;
    for f in failures.iter().take(5) {
        eprintln!(
            "returns-bench: return #{} failed at {}: {} {}",
            f.i,
            f.step,
            f.status.map_or("no answer".to_string(), |s| s.to_string()),
            f.detail
        );
    }
    if timed_out > 0 {
        eprintln!("returns-bench: {timed_out} returns unfinished after {} ms", a.max_phase.as_millis());
    }
    let dup_groups: Vec<&Vec<(u16, String)>> = done.iter().filter_map(|d| d.dup.as_ref()).collect();
    let dup_requests: usize = dup_groups.iter().map(|g| g.len()).sum();
    let mut dup_codes: BTreeMap<String, usize> = BTreeMap::new();
    for g in &dup_groups {
        for (s, code) in g.iter().filter(|(s, _)| *s != 200) {
            *dup_codes.entry(format!("{s} {code}")).or_default() += 1;
        }
    }

    // ---- read back, not timed
    let by_index: HashMap<usize, &Arc<Case>> = cases.iter().map(|c| (c.i, c)).collect();
    let mut reading = Vec::with_capacity(done.len());
    for d in &done {
        let (client, finance, id) = (client.clone(), staff.finance.clone(), d.rma_id);
        reading.push(tokio::spawn(async move {
            client.expect("GET", &format!("/api/returns/{id}"), Some(&finance), None, None, 200).await
        }));
    }
    let mut finals = Vec::with_capacity(done.len());
    for (d, r) in done.iter().zip(reading) {
        finals.push((by_index[&d.i].clone(), r.await??));
    }
    let figures_after = figures(&client, &staff.finance).await?;
    let mut stock_after = BTreeMap::new();
    for &(id, _) in products.iter() {
        stock_after.insert(id, stock_of(&client, id).await?);
    }
    let mut credit_after = HashMap::new();
    for c in &cases {
        let v = client.expect("GET", "/api/credit", Some(&c.token), None, None, 200).await?;
        credit_after.insert(c.user_id, int(&v, "balance_cents", "GET /api/credit")?);
    }
    let report =
        client.expect("GET", "/api/staff/reconciliation", Some(&staff.finance), None, None, 200).await?;

    // ---- the checks
    let mut checks = Checks(Vec::new());
    let n = cases.len();
    checks.add(
        "every lifecycle ran to its end",
        done.len() == n,
        format!(
            "{} of {n}; {s5xx} 5xx, {unexpected} unexpected answers, {no_answer} unanswered, {timed_out} unfinished",
            done.len()
        ),
    );
    let mut wrong = Vec::new();
    let mut exp = BTreeMap::new(); // figure -> expected change
    let mut stock_delta: BTreeMap<i64, i64> = BTreeMap::new();
    let mut credit_delta: HashMap<i64, i64> = HashMap::new();
    let (mut amounts, mut splits, mut fees) = (Vec::new(), Vec::new(), Vec::new());
    let mut mix: BTreeMap<Disp, (usize, usize)> = BTreeMap::new(); // (count, resellable)
    for (c, r) in &finals {
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
        let id = r.get("id").and_then(Value::as_i64).unwrap_or(0);
        let d = c.disposition;
        let m = mix.entry(d).or_default();
        m.0 += 1;
        m.1 += usize::from(c.condition == "resellable");
        if s("stage") != "completed" || s("disposition") != d.name() || s("condition") != c.condition {
            wrong.push(format!(
                "RMA {id}: {} {} {} (expected completed {} {})",
                s("stage"),
                s("disposition"),
                s("condition"),
                d.name(),
                c.condition
            ));
        }
        match (d, c.outcome) {
            (Disp::Replacement, _) if r.get("replacement_order_id").and_then(Value::as_i64).is_none() => {
                wrong.push(format!("RMA {id}: a replacement without replacement_order_id"))
            }
            (_, Some(o)) if s("outcome") != o => {
                wrong.push(format!("RMA {id}: outcome {} (expected {o})", s("outcome")))
            }
            _ => {}
        }
        // the estimate at the condition found: gross from the order, the default fee
        let gross = c.unit_price_cents * c.quantity;
        let bps = default_fee_bps(c.reason, c.condition);
        let fee = (gross * bps + 5_000) / 10_000;
        let est = r.get("estimate").cloned().unwrap_or(Value::Null);
        let want_est = json!({"gross": gross, "fee_bps": bps, "fee": fee, "net": gross - fee});
        if est != want_est {
            fees.push(format!(
                "RMA {id} ({} {}): estimate {est}, expected {want_est}",
                c.reason, c.condition
            ));
        }
        // the amount: the most allowed (the net of the server's estimate, whatever the fee
        // policy), or the share of it finance asked for
        let net = est.get("net").and_then(Value::as_i64).unwrap_or(-1);
        let amount = r.get("amount_cents").and_then(Value::as_i64);
        let want_amount = d.moves_money().then(|| c.partial_pct.map_or(net, |pct| (net * pct / 100).max(1)));
        if amount != want_amount {
            amounts
                .push(format!("RMA {id} ({}): amount_cents {amount:?}, expected {want_amount:?}", d.name()));
        }
        let amount = amount.unwrap_or(0);
        let restocked = if d.keeps_goods() && c.condition == "resellable" { c.quantity } else { 0 };
        *exp.entry("restocked_units").or_insert(0) += restocked;
        *stock_delta.entry(c.product_id).or_insert(0) += restocked;
        match d {
            Disp::Refund => {
                let (card, credit) = (c.order_card_cents, c.order_credit_cents);
                let total = card + credit;
                let target = (amount * card + total / 2) / total.max(1);
                let want_card = target.clamp((amount - credit).max(0), amount.min(card));
                let want = json!({"card_cents": want_card, "credit_cents": amount - want_card});
                let got = r.get("refund").cloned().unwrap_or(Value::Null);
                if got != want {
                    splits.push(format!("RMA {id}: {amount} of an order paid {card} card + {credit} credit split {got}, expected {want}"));
                }
                *exp.entry("refunded_card_cents").or_insert(0) += want_card;
                *exp.entry("refunded_credit_cents").or_insert(0) += amount - want_card;
                *credit_delta.entry(c.user_id).or_insert(0) += amount - want_card;
            }
            Disp::StoreCredit => {
                *exp.entry("credit_granted_cents").or_insert(0) += amount;
                *credit_delta.entry(c.user_id).or_insert(0) += amount;
            }
            Disp::Replacement => {
                *exp.entry("replacements").or_insert(0) += 1;
                *stock_delta.entry(c.product_id).or_insert(0) -= c.quantity;
            }
            Disp::Repair | Disp::Reject => {}
        }
    }
    checks.all("every return completed as decided", finals.len(), &wrong);
    checks.all("estimates follow the default fee table", finals.len(), &fees);
    checks.all("amounts: the most allowed, or what finance asked", finals.len(), &amounts);
    let refunds = finals.iter().filter(|(c, _)| c.disposition == Disp::Refund).count();
    checks.all("refunds split in proportion to card and credit paid", refunds, &splits);
    let refund_sum: i64 = finals
        .iter()
        .filter(|(c, _)| c.disposition == Disp::Refund)
        .filter_map(|(_, r)| r.get("amount_cents").and_then(Value::as_i64))
        .sum();
    let mut fig_wrong = Vec::new();
    let delta =
        |k: &str| figures_after.get(k).copied().unwrap_or(0) - figures_before.get(k).copied().unwrap_or(0);
    for k in FIGURES {
        let want = exp.get(k).copied().unwrap_or(0);
        if delta(k) != want {
            fig_wrong.push(format!("{k} +{}, expected +{want}", delta(k)));
        }
    }
    let refunded = delta("refunded_card_cents") + delta("refunded_credit_cents");
    if refunded != refund_sum {
        fig_wrong.push(format!("card + credit refunds +{refunded}, the refunds decided {refund_sum}"));
    }
    checks.all("figures = what the dispositions decided", FIGURES.len(), &fig_wrong);
    let mut stock_wrong = Vec::new();
    for (id, before) in &stock_before {
        let want = before + stock_delta.get(id).copied().unwrap_or(0);
        let got = stock_after.get(id).copied().unwrap_or(-1);
        if got != want {
            stock_wrong.push(format!("product {id}: stock {got}, expected {before} {:+}", want - before));
        }
    }
    checks.all("stock = before + restocked - replaced", stock_before.len(), &stock_wrong);
    let mut credit_wrong = Vec::new();
    for c in &cases {
        let before = credit_before.get(&c.user_id).copied().unwrap_or(0);
        let want = before + credit_delta.get(&c.user_id).copied().unwrap_or(0);
        let got = credit_after.get(&c.user_id).copied().unwrap_or(-1);
        if got != want {
            credit_wrong.push(format!("user {}: balance {got}, expected {want}", c.user_id));
        }
    }
    checks.all(
        "customers' store credit = before + credit refunds + store credit",
        cases.len(),
        &credit_wrong,
    );
    let dup_bad: Vec<String> = dup_groups
        .iter()
        .filter(|g| {
            g.iter().filter(|(s, _)| *s == 200).count() != 1 || g.iter().any(|(s, _)| *s != 200 && *s != 409)
        })
        .map(|g| format!("{g:?}"))
        .collect();
    let dup_expected = cases.iter().filter(|c| c.dup).count();
    checks.add(
        "duplicate concurrent process: exactly one 200, the rest 409",
        dup_bad.is_empty() && dup_groups.len() == dup_expected,
        format!(
            "{} of {dup_expected} groups of {} calls; 409s: {dup_codes:?}",
            dup_groups.len(),
            a.dup_calls
        ),
    );
    let clean = report.get("clean").and_then(Value::as_bool) == Some(true);
    let return_disc = report.get("return_discrepancies").cloned().unwrap_or(Value::Null);
    let issues: Vec<String> = report
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.as_array().is_some_and(|a| !a.is_empty()))
                .map(|(k, v)| format!("{k} {v}"))
                .collect()
        })
        .unwrap_or_default();
    checks.add(
        "reconciliation clean, no return discrepancy",
        clean && return_disc == json!([]),
        format!(
            "clean {clean}, return_discrepancies {return_disc}{}",
            if issues.is_empty() { String::new() } else { format!("; {}", issues.join(", ")) }
        ),
    );

    // ---- the report
    println!(
        "returns-bench: {n} returns at once, at most {} requests in flight: {} completed in {wall:.1} ms \
         ({requests} requests, {:.0}/s; {dup_requests} of them duplicate process calls)",
        a.concurrency,
        done.len(),
        requests as f64 / (wall / 1000.0).max(1e-3)
    );
    let mix_text: Vec<String> = Disp::ALL
        .iter()
        .map(|d| {
            let (k, resellable) = mix.get(d).copied().unwrap_or_default();
            format!("{} {k} ({resellable} resellable)", d.name())
        })
        .collect();
    println!("  mix: {}", mix_text.join(", "));
    println!("  {:<17} {:>6} {:>8} {:>8} {:>8}", "step", "count", "p50_ms", "p99_ms", "max_ms");
    for (s, l) in STEPS.iter().zip(&per_step) {
        println!(
            "  {s:<17} {:>6} {:>8.1} {:>8.1} {:>8.1}",
            l.len(),
            percentile(l, 50.0),
            percentile(l, 99.0),
            percentile(l, 100.0)
        );
    }
    println!(
        "  moved: refunded {} card + {} credit cents, {} credit granted, {} units restocked, {} replacements",
        delta("refunded_card_cents"),
        delta("refunded_credit_cents"),
        delta("credit_granted_cents"),
        delta("restocked_units"),
        delta("replacements")
    );
    for (name, ok, detail) in &checks.0 {
        println!("  check {:<4} {name}: {detail}", if *ok { "ok" } else { "FAIL" });
    }
    let steps: Vec<String> = STEPS
        .iter()
        .zip(&per_step)
        .map(|(s, l)| format!("p50_{s}_ms={:.1} p99_{s}_ms={:.1}", percentile(l, 50.0), percentile(l, 99.0)))
        .collect();
    let count = |d: Disp| mix.get(&d).map_or(0, |m| m.0);
    println!(
        "RETURNS returns={n} completed={} concurrency={} wall_ms={wall:.1} requests={requests} s5xx={s5xx} \
         unexpected={unexpected} no_answer={no_answer} unfinished={timed_out} refund={} store_credit={} \
         replacement={} repair={} reject={} dup_groups={} dup_requests={dup_requests} \
         refunded_card_cents={} refunded_credit_cents={} credit_granted_cents={} restocked_units={} \
         replacements={} reconciliation_clean={clean} checks={} failed_checks={} {}",
        finals.iter().filter(|(_, r)| r.get("stage").and_then(Value::as_str) == Some("completed")).count(),
        a.concurrency,
        count(Disp::Refund),
        count(Disp::StoreCredit),
        count(Disp::Replacement),
        count(Disp::Repair),
        count(Disp::Reject),
        dup_groups.len(),
        delta("refunded_card_cents"),
        delta("refunded_credit_cents"),
        delta("credit_granted_cents"),
        delta("restocked_units"),
        delta("replacements"),
        checks.0.len(),
        checks.failed(),
        steps.join(" "),
    );
    Ok(checks.failed() == 0)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("returns-bench: {e}");
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
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("returns-bench: {e}");
            ExitCode::from(2)
        }
    }
}
