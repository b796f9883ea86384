//! `retail`: one binary for the server, the worker and the admin commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use retail_domain::account::Role;
use retail_server::config::Settings;
use retail_server::http::Limiters;
use retail_server::http::metrics::Metrics;
use retail_server::service::{ServiceError, operator};
use retail_server::startup::{Application, open_database};
use retail_server::{openapi, seed, telemetry, worker};

#[derive(Parser)]
#[command(name = "retail", version, about = "Retail platform: API, SPA, worker and admin commands")]
struct Cli {
    /// TOML settings file (default: ./retail.toml if present). RETAIL_* variables override it.
    #[arg(long, global = true, env = "RETAIL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then serve the API and the SPA.
    Serve,
    /// Run background jobs (session purge, abandoned payments and orders, reconciliation).
    Worker {
        /// Seconds between passes.
        #[arg(long, default_value_t = 60)]
        every: u64,
        /// Run one pass and exit.
        #[arg(long)]
        once: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Create the demo accounts and products that are missing, and print the accounts.
    Seed,
    /// Print the OpenAPI document.
    Openapi,
    /// Check that the books agree: no capture without a paid order, no paid order without a
    /// capture, captured total = paid orders' card total, store credit and stock equal to
    /// their ledgers. Prints the report as JSON; exits 1 when anything disagrees.
    Reconcile,
    /// Copy the database to FILE while the shop keeps serving (a consistent snapshot, checked
    /// after writing). Restore: stop the server and worker, put FILE in place of
    /// `<data dir>/retail.db` (remove its `-wal` and `-shm` files), start again.
    Backup {
        /// Where to write the copy (must not exist).
        file: PathBuf,
    },
    /// Add generated products (names, descriptions, categories, prices; no stock) for
    /// benchmarks. Never run it against a shop's real database.
    BenchData {
        /// How many products to add.
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        /// Also add this many customers, each with a filled cart and a signed-in session, for
        /// the checkout benchmark (stock for all of them goes onto the first active products
        /// through the ledger).
        #[arg(long, default_value_t = 0)]
        customers: usize,
        /// Lines in each customer's cart (one unit each).
        #[arg(long, default_value_t = 2)]
        cart_lines: usize,
        /// Where to write the customers' access tokens, one per line.
        #[arg(long)]
        tokens_out: Option<PathBuf>,
    },
    /// Manage accounts from the server (e.g. to restore an admin).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Partner feeds.
    Feed {
        #[command(subcommand)]
        action: FeedAction,
    },
}

#[derive(Subcommand)]
enum FeedAction {
    /// Apply a CSV or JSON feed file for a partner now, with a progress bar and a summary.
    Import {
        /// The file (.csv, .tsv, .txt or .json).
        file: PathBuf,
        /// The partner's ID.
        #[arg(long)]
        partner: i64,
        /// All rows or none (default: the partner's mode).
        #[arg(long, conflicts_with = "dry_run")]
        strict: bool,
        /// Only check: counts and row errors, nothing written.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account with any role. The password is read from standard input with
    /// --password-stdin; otherwise a random one is generated and printed once.
    Create {
        /// Email address (the login).
        #[arg(long)]
        email: String,
        /// customer, support, warehouse, finance or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Display name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change the role of an existing account.
    SetRole {
        /// Email address of the account.
        #[arg(long)]
        email: String,
        /// customer, support, warehouse, finance or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?}; one of {}", all.join(", "))
    })
}

async fn feed_import(
    settings: &Settings,
    file: &std::path::Path,
    partner: i64,
    strict: bool,
    dry_run: bool,
) -> Result<(), String> {
    use retail_api_types::FeedMode;
    let db = open_database(settings).map_err(|e| e.to_string())?;
    let body = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mode = if dry_run {
        Some(FeedMode::ValidateOnly)
    } else if strict {
        Some(FeedMode::Strict)
    } else {
        None
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows applied ({per_sec})",
        )
        .map_err(|e| e.to_string())?,
    );
    bar.set_message("checking");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let started = std::time::Instant::now();
    let result = retail_server::service::feeds::import(
        &db,
        &settings.partners,
        partner,
        &name,
        body,
        mode,
        Some(&progress),
    )
    .await;
    bar.finish_and_clear();
    let (job, duplicate) = result.map_err(|e| e.to_string())?;
    if duplicate {
        println!("this file was applied before, by job {} ({}): nothing done", job.id, job.state);
    }
    println!(
        "feed job {} for partner {partner}: {} ({} mode, {:.2} s)",
        job.id,
        job.state,
        job.mode,
        started.elapsed().as_secs_f64()
    );
    println!("{:<12} {:>10}", "rows", job.rows_total);
    for (what, n) in [
        ("created", job.rows_created),
        ("updated", job.rows_updated),
        ("unchanged", job.rows_unchanged),
        ("rejected", job.rows_rejected),
    ] {
        println!("{what:<12} {n:>10}");
    }
    println!("{:<12} {:>10}", "applied", if job.applied { "yes" } else { "no" });
    if let Some(e) = &job.last_error {
        println!("error: {e}");
    }
    let errors = retail_server::service::feeds::errors_of(&db, job.id).await.map_err(|e| e.to_string())?;
    for e in errors.iter().take(20) {
        println!("  row {:>6}  {:<12} {}", e.row, e.field, e.reason);
    }
    if job.rows_rejected > 20 {
        println!("  ... and {} more: GET /api/admin/feeds/jobs/{}/errors", job.rows_rejected - 20, job.id);
    }
    if job.state == "failed" { Err(format!("feed job {} failed", job.id)) } else { Ok(()) }
}

fn read_password_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("reading the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user_command(action: UserAction, settings: &Settings) -> Result<(), String> {
    let db = open_database(settings).map_err(|e| e.to_string())?;
    let describe = |e: ServiceError| e.to_string();
    match action {
        UserAction::Create { email, role, name, password_stdin } => {
            let (password, generated) = if password_stdin {
                (read_password_line()?, false)
            } else {
                let bytes: [u8; 18] = rand::random();
                (bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(), true)
            };
            let u = operator::create_user(&db, &email, &password, name.as_deref(), role)
                .await
                .map_err(describe)?;
            println!("created {} ({}) with id {}", u.email, u.role.as_str(), u.id);
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserAction::SetRole { email, role } => {
            let u = operator::set_role(&db, &email, role).await.map_err(describe)?;
            println!("{} is now {}", u.email, u.role.as_str());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // Everything this process creates (database, WAL, logs, secrets) is for its owner only.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("retail: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::Openapi = cli.command {
        return print_openapi(&settings);
    }
    let _guards = telemetry::init(&settings);
    let result = actix_web::rt::System::new().block_on(run(cli.command, settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "retail failed");
            eprintln!("retail: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_openapi(settings: &Settings) -> ExitCode {
    let doc = Metrics::new()
        .map_err(|e| e.to_string())
        .and_then(|m| Limiters::new(&settings.limits, &settings.flash, &m))
        .and_then(|l| openapi::document_json(&l).map_err(|e| e.to_string()));
    match doc {
        Ok(json) => {
            print!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("retail: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<(), String> {
    match command {
        Command::Serve => {
            let app = Application::build(settings.clone()).await.map_err(|e| e.to_string())?;
            println!("retail is serving on http://{}", display_addr(&settings.addr, app.port()));
            app.run_until_stopped().await.map_err(|e| e.to_string())
        }
        Command::Worker { every, once } => {
            let db = open_database(&settings).map_err(|e| e.to_string())?;
            let gateway = worker::payments_for(&settings).map_err(|e| format!("{e:?}"))?;
            let mailing = worker::Mailing::from_settings(&settings)?;
            if once {
                let jobs = worker::Housekeeping::from_settings(&settings);
                let r = worker::run_once_with(&db, &gateway, &jobs, chrono::Utc::now())
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                println!(
                    "sessions purged: {}, stock discrepancies: {}, idempotency keys purged: {}, payments voided: {}, orders abandoned: {}, holds expired: {}, sales settled: {}, returns expired: {}, reconciliation mismatches: {}",
                    r.sessions_purged,
                    r.stock_discrepancies,
                    r.idempotency_keys_purged,
                    r.payments_voided,
                    r.orders_abandoned,
                    r.holds_expired,
                    r.sales_settled,
                    r.returns_expired,
                    r.reconciliation_mismatches
                );
                let (alerts, d) = worker::notify_pass(&db, &mailing, chrono::Utc::now(), None)
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                let (pulled, (ok, failed, retried)) =
                    worker::feeds_pass(&db, &settings.partners, &mailing.owner, None)
                        .await
                        .map_err(|e| format!("{e:?}"))?;
                println!(
                    "schedules run: {pulled}, feed jobs succeeded: {ok}, failed: {failed}, to retry: {retried}"
                );
                worker::beat(&db, &mailing.owner, &r).await;
                println!(
                    "sla alerts: {alerts}, mail sent: {}, mail to retry: {}, mail given up: {}",
                    d.sent, d.retried, d.failed
                );
            } else {
                let jobs = worker::Housekeeping::from_settings(&settings);
                let feeds = settings.partners.clone();
                worker::run(
                    db,
                    gateway,
                    jobs,
                    (mailing, feeds),
                    std::time::Duration::from_secs(every.max(1)),
                )
                .await;
            }
            Ok(())
        }
        Command::Migrate => {
            open_database(&settings).map_err(|e| e.to_string())?;
            println!("database {} is up to date", settings.database_path().display());
            Ok(())
        }
        Command::Seed => {
            let db = open_database(&settings).map_err(|e| e.to_string())?;
            let r = seed::run(&db).await.map_err(|e| format!("{e:?}"))?;
            println!(
                "seed: {} account(s), {} product(s), {} demo order(s), {} demo sale(s) and {} demo return(s) created ({} products defined)",
                r.accounts_created,
                r.products_created,
                r.orders_created,
                r.sales_created,
                r.returns_created,
                seed::product_count()
            );
            if let Some(key) = &r.partner_key {
                println!(
                    "demo partner {:?} onboarded; its API key (shown this once): {key}",
                    retail_server::seed_feeds::DEMO_PARTNER
                );
            }
            println!("demo accounts (change or remove them before going live):");
            for a in seed::DEMO_ACCOUNTS {
                println!("  {:<10} {:<24} {}", a.role.as_str(), a.email, a.password);
            }
            Ok(())
        }
        Command::User { action } => user_command(action, &settings).await,
        Command::Openapi => Ok(()),
        Command::Feed { action: FeedAction::Import { file, partner, strict, dry_run } } => {
            feed_import(&settings, &file, partner, strict, dry_run).await
        }
        Command::Backup { file } => {
            let source = settings.database_path();
            if !source.exists() {
                return Err(format!("no database at {}", source.display()));
            }
            retail_store::backup(&source, &file).map_err(|e| e.to_string())?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!(
                "backup of {} written to {} ({size} bytes, integrity ok)",
                source.display(),
                file.display()
            );
            Ok(())
        }
        Command::Reconcile => {
            let db = open_database(&settings).map_err(|e| e.to_string())?;
            let report =
                db.read(retail_server::service::credit::reconcile_on).await.map_err(|e| format!("{e:?}"))?;
            let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            println!("{json}");
            if report.clean {
                Ok(())
            } else {
                Err("reconciliation found mismatches (see the report above)".into())
            }
        }
        Command::BenchData { products, customers, cart_lines, tokens_out } => {
            let db = open_database(&settings).map_err(|e| e.to_string())?;
            if products > 0 {
                let added = bench_data::generate(&db, products).await?;
                println!("bench-data: {added} product(s) added to {}", settings.database_path().display());
            }
            if customers > 0 {
                let out = tokens_out.ok_or("--customers needs --tokens-out FILE")?;
                let n =
                    bench_data::customers(&db, &settings, customers, cart_lines.clamp(1, 10), &out).await?;
                println!("bench-data: {n} customer(s) with carts; tokens in {}", out.display());
            }
            Ok(())
        }
    }
}

fn display_addr(addr: &str, port: u16) -> String {
    match addr.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{addr}:{port}"),
    }
}

/// Synthetic catalogs for benchmarks: plausible shop data, reproducible for a given database.
mod bench_data {
    use std::io::Write;
    use std::time::Instant;

    use chrono::Utc;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use retail_domain::catalog::{NewProduct, NewProductInput};
    use retail_domain::paging::{PageRequest, ProductSort};
    use retail_store::repo::products::{self, ProductFilter};
    use retail_store::{Db, StoreError};

    /// One category a line: name, SKU prefix, then its nouns separated by ", ".
    const CATEGORIES: &str = "\
kitchen KIT kettle, skillet, knife, cutting board, dripper, mixing bowl, scale, dutch oven, spatula, teapot, grater, colander
electronics ELE earbuds, charger, power bank, speaker, headphones, webcam, keyboard, mouse, monitor stand, usb hub, smart plug, e-reader
home HOM lamp, throw blanket, cushion, vase, candle, rug, mirror, wall clock, picture frame, laundry basket, doormat, curtain
garden GAR trowel, watering can, hose, pruning shears, planter, bird feeder, rake, seed tray, garden gloves, wheelbarrow, sprinkler, compost bin
outdoor OUT tent, sleeping bag, backpack, headlamp, camping stove, water bottle, hammock, trekking poles, cooler, folding chair, compass, rain jacket
sports SPO yoga mat, kettlebell, dumbbell set, skipping rope, football, tennis racket, cycling helmet, running shoes, foam roller, swim goggles, resistance band, gym bag
fashion FAS t-shirt, hoodie, jeans, scarf, beanie, leather belt, wallet, sunglasses, sneakers, wool socks, denim jacket, tote bag
toys TOY building blocks, puzzle, plush bear, wooden train, kite, board game, toy car, doll house, marble run, puppet, spinning top, drawing set
books BOO cookbook, novel, travel guide, atlas, notebook, journal, sketchbook, planner, field guide, poetry collection, comic, dictionary
beauty BEA hand cream, shampoo, soap bar, lip balm, face serum, hair brush, razor, body lotion, bath salts, nail kit, perfume, sunscreen
office OFF desk lamp, stapler, fountain pen, desk organiser, whiteboard, paper tray, monitor arm, office chair, label maker, pencil case, file box, notepad
tools TOO hammer, screwdriver set, cordless drill, tape measure, spirit level, wrench, utility knife, toolbox, work light, pliers, socket set, clamp";
    const ADJECTIVES: &str = "\
        compact, portable, wireless, classic, modern, vintage, deluxe, premium, lightweight, \
        heavy-duty, foldable, rechargeable, ergonomic, handmade, waterproof, insulated, quiet, \
        smart, mini, large, slim, rustic, everyday, professional, travel, family";
    const MATERIALS: &str = "\
        stainless steel, bamboo, oak, cotton, merino wool, leather, ceramic, glass, copper, recycled \
        plastic, cast iron, linen, silicone, aluminium, walnut, enamel";
    const COLOURS: &str = "\
        black, white, grey, navy, forest green, sand, terracotta, mustard, sky blue, charcoal, \
        olive, burgundy, ivory, teal";
    const OPENERS: &[&str] = &[
        "Made from {m} for years of everyday use.",
        "A {a} {n} in {c}, designed to be easy to clean.",
        "Our best-selling {n}, now in {m}.",
        "Built to last, with a {c} finish and a {m} body.",
        "The {a} choice for small flats and busy households alike.",
        "Thoughtfully designed and tested by our team.",
    ];
    const DETAILS: &[&str] = &[
        "Ships in recyclable packaging.",
        "Two-year warranty included.",
        "Fits neatly in a drawer or a backpack.",
        "Suitable as a gift; comes with a card.",
        "Care: wipe with a damp cloth.",
        "Spare parts are available for five years.",
        "Rated four and a half stars by our customers.",
        "Pairs well with the rest of the {c} range.",
    ];

    fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
        items[rng.random_range(0..items.len())]
    }

    fn fill(template: &str, adjective: &str, noun: &str, material: &str, colour: &str) -> String {
        template
            .replace("{a}", adjective)
            .replace("{n}", noun)
            .replace("{m}", material)
            .replace("{c}", colour)
    }

    /// The word lists, split once.
    struct Words {
        categories: Vec<(&'static str, &'static str, Vec<&'static str>)>,
        adjectives: Vec<&'static str>,
        materials: Vec<&'static str>,
        colours: Vec<&'static str>,
    }

    impl Words {
        fn new() -> Words {
            let list = |s: &'static str| s.split(", ").collect::<Vec<_>>();
            let categories = CATEGORIES
                .lines()
                .filter_map(|l| {
                    let mut parts = l.splitn(3, ' ');
                    Some((parts.next()?, parts.next()?, list(parts.next()?)))
                })
                .collect();
            Words {
                categories,
                adjectives: list(ADJECTIVES),
                materials: list(MATERIALS),
                colours: list(COLOURS),
            }
        }
    }

    /// The generated product numbered `i`.
    fn product(rng: &mut StdRng, w: &Words, i: u64) -> Result<NewProduct, String> {
        let (category, prefix, nouns) = &w.categories[rng.random_range(0..w.categories.len())];
        let (adjective, noun) = (pick(rng, &w.adjectives), pick(rng, nouns));
        let (material, colour) = (pick(rng, &w.materials), pick(rng, &w.colours));
        let name = match rng.random_range(0..3) {
            0 => format!("{adjective} {noun}"),
            1 => format!("{material} {noun}"),
            _ => format!("{adjective} {colour} {noun}"),
        };
        let mut chars = name.chars();
        let name: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        let mut description = fill(pick(rng, OPENERS), adjective, noun, material, colour);
        for _ in 0..rng.random_range(1..4) {
            description.push(' ');
            description.push_str(&fill(pick(rng, DETAILS), adjective, noun, material, colour));
        }
        let sku = format!("{prefix}-{i:07}");
        NewProduct::parse(NewProductInput {
            sku: &sku,
            name: &name,
            description: &description,
            price_cents: rng.random_range(199..50_000),
            currency: "EUR",
            category,
            image_url: "",
            initial_stock: 0,
            active: true,
            returnable: None,
        })
        .map_err(|e| format!("generated product {sku} is invalid: {e:?}"))
    }

    /// Adds `count` products, a few thousand per transaction, drawing a progress bar on
    /// stderr; returns how many were added.
    pub async fn generate(db: &Db, count: usize) -> Result<usize, String> {
        const BATCH: usize = 5_000;
        // numbering continues after the newest product, so SKUs never collide
        let newest = db
            .read(|c| {
                let page = PageRequest::parse(None, Some(1)).map_err(|e| StoreError::Corrupt(e.message))?;
                let all = ProductFilter { include_inactive: true, ..ProductFilter::default() };
                products::list(c, &all, ProductSort::Newest, page)
            })
            .await
            .map_err(|e| e.to_string())?;
        let start = newest.0.first().map_or(0, |p| p.id.unsigned_abs());
        let mut rng = StdRng::seed_from_u64(start);
        let words = Words::new();
        let started = Instant::now();
        let mut added = 0;
        while added < count {
            let n = BATCH.min(count - added);
            let first = start + added as u64 + 1;
            let batch =
                (0..n as u64).map(|k| product(&mut rng, &words, first + k)).collect::<Result<Vec<_>, _>>()?;
            let now = Utc::now();
            added +=
                db.write(move |c| products::bulk_insert(c, &batch, now)).await.map_err(|e| e.to_string())?;
            progress(added, count, started);
        }
        eprintln!();
        // a bulk load: the search index in one piece, as fast to search as it gets
        db.write_alone(products::optimize_search_index).await.map_err(|e| e.to_string())?;
        Ok(added)
    }

    /// Adds `count` customers (one password hash shared by all: they never log in), each
    /// with a session, an access token written to `tokens_out` and `lines` cart lines of one
    /// unit; puts enough stock for all of them on the products used, through the ledger.
    pub async fn customers(
        db: &Db,
        settings: &retail_server::config::Settings,
        count: usize,
        lines: usize,
        tokens_out: &std::path::Path,
    ) -> Result<usize, String> {
        use retail_domain::account::Role;
        use retail_server::auth::{TokenKeys, load_or_create_secret};
        use retail_store::models::{NewUserRow, SessionRow};
        use retail_store::repo::{carts, sessions, users};

        const BATCH: usize = 2_000;
        const POOL: usize = 40;
        let secret = load_or_create_secret(settings.auth.jwt_secret.as_ref(), &settings.data_dir)
            .map_err(|e| e.to_string())?;
        let keys = TokenKeys::new(&secret, &settings.auth)?;
        let hash =
            retail_server::auth::hash_password("bench customer password").map_err(|e| format!("{e:?}"))?;
        let pool: Vec<i64> = db
            .read(|c| {
                let page = PageRequest::parse(None, Some(100)).map_err(|e| StoreError::Corrupt(e.message))?;
                products::list(c, &ProductFilter::default(), ProductSort::NameAsc, page)
            })
            .await
            .map_err(|e| e.to_string())?
            .0
            .into_iter()
            .filter(|p| p.price_cents > 0)
            .take(POOL)
            .map(|p| p.id)
            .collect();
        if pool.len() < lines {
            return Err("bench-data: not enough active products; run `retail seed` first".into());
        }
        // Every product of the pool gets stock for every customer, with room to spare.
        let units = i64::try_from(count * lines).map_err(|e| e.to_string())?;
        let stocked = pool.clone();
        db.write(move |c| {
            let now = Utc::now();
            for id in &stocked {
                products::apply_stock_delta(c, *id, units, "bench-data", None, now)?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(|e| e.to_string())?;
        let tag: u32 = rand::random();
        let started = Instant::now();
        let mut file = std::io::BufWriter::new(std::fs::File::create(tokens_out).map_err(|e| e.to_string())?);
        let mut done = 0;
        while done < count {
            let n = BATCH.min(count - done);
            let (first, hash, pool) = (done, hash.clone(), pool.clone());
            let lifetimes = keys.clone_lifetimes();
            let made: Vec<(i64, String)> = db
                .write(move |c| {
                    let now = Utc::now();
                    let mut out = Vec::with_capacity(n);
                    for k in first..first + n {
                        let email = format!("bench-{tag:08x}-{k}@bench.retail.test");
                        let u = users::insert(
                            c,
                            &NewUserRow {
                                email: &email,
                                password_hash: &hash,
                                display_name: "bench",
                                role: Role::Customer.as_str(),
                                created_at: now,
                                updated_at: now,
                            },
                        )?;
                        let sid = uuid::Uuid::new_v4().to_string();
                        sessions::insert(
                            c,
                            &SessionRow {
                                id: sid.clone(),
                                user_id: u.id,
                                refresh_hash: format!("bench-{sid}"),
                                created_at: now,
                                expires_at: lifetimes.session_expiry(now, now),
                                revoked_at: None,
                            },
                        )?;
                        for j in 0..lines {
                            let pid = pool[(k + j * 7) % pool.len()];
                            let price = products::by_id(c, pid)?.map_or(0, |p| p.price_cents);
                            carts::insert(c, u.id, pid, 1, price, now)?;
                        }
                        out.push((u.id, sid));
                    }
                    Ok::<_, StoreError>(out)
                })
                .await
                .map_err(|e| e.to_string())?;
            let now = Utc::now();
            for (id, sid) in made {
                let token = keys
                    .issue(retail_domain::UserId(id), Role::Customer, &sid, now)
                    .map_err(|e| format!("{e:?}"))?;
                writeln!(file, "{token}").map_err(|e| e.to_string())?;
            }
            done += n;
            progress_of(done, count, started, "customers");
        }
        file.flush().map_err(|e| e.to_string())?;
        eprintln!();
        Ok(done)
    }

    /// `[#####-----] done/total products, rate/s`, redrawn in place.
    fn progress(done: usize, total: usize, started: Instant) {
        progress_of(done, total, started, "products");
    }

    /// `[#####-----] done/total <what>, rate/s`, redrawn in place.
    fn progress_of(done: usize, total: usize, started: Instant, what: &str) {
        const WIDTH: usize = 40;
        let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH).min(WIDTH);
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r[{}{}] {done}/{total} {what}, {rate:.0}/s",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled)
        );
        let _ = std::io::stderr().flush();
    }
}
