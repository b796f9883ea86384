//! Builds the application from settings: database, state, middleware, routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix_files::Files;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::Method;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, ResponseError, web};
use retail_store::{Db, DbOptions};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{TokenKeys, load_or_create_secret};
use crate::config::Settings;
use crate::error::ApiError;
use crate::http::client::TrustedProxies;
use crate::http::extract::BodyLimit;
use crate::http::methods::{self, RouteTable};
use crate::http::metrics::Metrics;
use crate::http::request_id::RetailRootSpan;
use crate::http::spa::{self, SpaIndex};
use crate::http::{Limiters, api_routes, extract, ops_routes, request_id, security_headers};
use crate::openapi;
use crate::state::{AccountLimiter, AppState, ListCache, ListCacheLimits, prune_limiters};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Database open or migration failed.
    #[error("database: {0}")]
    Store(#[from] retail_store::StoreError),
    /// Files or sockets.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Anything else misconfigured.
    #[error("{0}")]
    Config(String),
}

/// Restricts a path to its owner (0700 for directories, 0600 for files): the data
/// directory holds password hashes, the JWT key and, in the logs, emails.
#[cfg(unix)]
fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    let mode = if meta.is_dir() { 0o700 } else { 0o600 };
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// Creates the data directory (and its log directory) private to the owner, and tightens
/// an existing one and the files in it.
pub fn prepare_data_dir(settings: &Settings) -> std::io::Result<()> {
    std::fs::create_dir_all(&settings.data_dir)?;
    make_private(&settings.data_dir)?;
    let logs = settings.data_dir.join("logs");
    for entry in std::fs::read_dir(&settings.data_dir)?.chain(std::fs::read_dir(&logs).into_iter().flatten())
    {
        make_private(&entry?.path())?;
    }
    Ok(())
}

/// Runs `job` every `every_secs` seconds (the first time at once) for as long as the process
/// lives; 0 never runs it. A run that is late is not made up for.
pub(crate) fn spawn_every<F, Fut>(every_secs: u64, mut job: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    if every_secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            job().await;
        }
    });
}

/// Expires lapsed flash-sale holds and settles sales that are over, every `every_secs`
/// (the worker does the same; a server started alone by `make run` still keeps sales exact).
fn spawn_flash_sweep(db: Db, every_secs: u64) {
    spawn_every(every_secs, move || {
        let db = db.clone();
        async move {
            match db.write(|c| crate::service::sales::sweep_in(c, chrono::Utc::now())).await {
                Ok((0, 0)) => {}
                Ok((expired, settled)) => tracing::info!(expired, settled, "flash sweep"),
                Err(e) => tracing::warn!(error = %e, "flash sweep failed; the next one retries"),
            }
        }
    });
}

/// Reconciles the books every `every_secs` (the first time at once): every finding is logged
/// and the counts per check go to `/metrics` (`reconciliation_mismatches{check}`).
fn spawn_reconciler(state: actix_web::web::Data<crate::state::AppState>, every_secs: u64) {
    spawn_every(every_secs, move || {
        let state = state.clone();
        async move {
            if let Err(e) = reconcile_now(&state).await {
                tracing::warn!(error = ?e, "scheduled reconciliation failed; the next one retries");
            }
        }
    });
}

/// Runs the reconciliation now, logs its findings and records them in the metrics; returns
/// how many findings there were.
pub async fn reconcile_now(state: &crate::state::AppState) -> Result<usize, crate::service::ServiceError> {
    let report = state.db.read(crate::service::credit::reconcile_on).await?;
    state.metrics.record_reconciliation(&report);
    state.monitor.stock_checks.record(report.stock_discrepancies.is_empty(), crate::monitor::unix_now());
    let findings = crate::worker::log_findings(&report);
    if let Ok(mut last) = state.monitor.last_reconciliation.lock() {
        *last = Some(report);
    }
    Ok(findings)
}

/// Runs queued feed jobs and due schedules every `every_secs` in the server too, under
/// leases like `retail worker`'s (so a shop without a worker still applies queued feeds).
fn spawn_feed_worker(state: web::Data<AppState>, every_secs: u64) {
    let owner = crate::service::notify::sender_name("server");
    spawn_every(every_secs, move || {
        let (state, owner) = (state.clone(), owner.clone());
        async move {
            let cfg = &state.settings.partners;
            match crate::worker::feeds_pass(&state.db, cfg, &owner, Some(&state.metrics.business)).await {
                Ok((0, (0, 0, 0))) => {}
                Ok((pulled, (ok, failed, retried))) => {
                    tracing::info!(
                        schedules_run = pulled,
                        feed_jobs_succeeded = ok,
                        feed_jobs_failed = failed,
                        feed_jobs_retried = retried,
                        "feed pass"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "feed pass failed; the next one retries"),
            }
        }
    });
}

/// Probes the server's own readiness (database reachable, migrations applied) every
/// `every_secs`, for the availability objective.
fn spawn_readiness_probe(state: web::Data<AppState>, every_secs: u64) {
    spawn_every(every_secs, move || {
        let state = state.clone();
        async move {
            let (database, migrations) = state.db.readiness().await;
            state.monitor.readiness.record(database && migrations, crate::monitor::unix_now());
        }
    });
}

/// Opens the database under the data directory and applies pending migrations.
pub fn open_database(settings: &Settings) -> Result<Db, StartupError> {
    prepare_data_dir(settings)?;
    let db = Db::open(
        &settings.database_path(),
        DbOptions {
            read_connections: settings.db.read_connections,
            busy_timeout: std::time::Duration::from_millis(settings.db.busy_timeout_ms),
            search_connections: settings.db.search_connections,
            writer_nice: settings.db.writer_nice,
            max_waiting: settings.db.max_waiting.max(1),
            ..DbOptions::default()
        },
    )?;
    let applied = db.migrate()?;
    // SQLite creates the file (and -wal/-shm with the same mode) under the process umask.
    for f in ["retail.db", "retail.db-wal", "retail.db-shm"] {
        let p = settings.data_dir.join(f);
        if p.exists() {
            make_private(&p)?;
        }
    }
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(db)
}

/// A running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Opens and migrates the database, binds the socket and starts serving.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let db = open_database(&settings)?;
        let secret = load_or_create_secret(settings.auth.jwt_secret.as_ref(), &settings.data_dir)?;
        let tokens = TokenKeys::new(&secret, &settings.auth).map_err(StartupError::Config)?;
        let metrics = Metrics::new().map_err(|e| StartupError::Config(e.to_string()))?;
        let limiters =
            Limiters::new(&settings.limits, &settings.flash, &metrics).map_err(StartupError::Config)?;
        let spec = openapi::document(&limiters);
        let spa = SpaIndex::load(&settings.dist_dir);
        if spa.is_none() {
            tracing::warn!(dist = %settings.dist_dir.display(), "SPA not built; serving the API only");
        }
        // Which methods each path answers (405 + Allow for the others), and whose forwarding
        // headers name the client.
        let routes = web::Data::new(RouteTable::new(&spec, spa.is_some()));
        let trusted =
            web::Data::new(TrustedProxies::parse(&settings.trusted_proxies).map_err(StartupError::Config)?);
        let listener = TcpListener::bind(&settings.addr)?;
        let port = listener.local_addr()?.port();
        let state = AppState {
            db,
            tokens,
            metrics: metrics.clone(),
            login_limiter: AccountLimiter::new(
                settings.limits.login_per_account_burst,
                std::time::Duration::from_millis(settings.limits.login_per_account_refill_ms),
            ),
            list_cache: Arc::new(ListCache::new(ListCacheLimits {
                pages: settings.cache.product_list_pages,
                bytes: settings.cache.product_list_bytes,
                page_ttl: std::time::Duration::from_millis(settings.cache.product_list_ttl_ms),
                version_ttl: std::time::Duration::from_millis(settings.cache.catalog_version_ttl_ms),
            })),
            hasher: crate::hashing::PasswordHasherPool::from_settings(&settings.hashing)?,
            payments: crate::payments::Payments::from_settings(&settings.payments, metrics.payments.clone()),
            flash: Arc::new(crate::state::FlashMemory::new(
                std::time::Duration::from_millis(settings.flash.sold_out_memo_ms),
                std::time::Duration::from_millis(settings.flash.listing_ttl_ms),
            )),
            returns: Arc::new(settings.returns.policy().map_err(StartupError::Config)?),
            monitor: Arc::new(crate::monitor::Monitor::new()),
            partner_limits: crate::service::partners::PartnerLimits::default(),
            settings: settings.clone(),
        }
        .into_data();
        spawn_flash_sweep(state.db.clone(), settings.flash.sweep_every_secs);
        spawn_reconciler(state.clone(), settings.db.reconcile_every_secs);
        spawn_readiness_probe(state.clone(), settings.monitoring.probe_every_secs);
        spawn_feed_worker(state.clone(), settings.partners.work_every_secs);
        let mut mailing = crate::worker::Mailing::from_settings(&settings).map_err(StartupError::Config)?;
        mailing.owner = crate::service::notify::sender_name("server");
        crate::service::notify::spawn_sender(
            state.clone(),
            mailing,
            settings.notifications.deliver_every_secs,
        );

        let body_limit = settings.limits.max_body_bytes;
        let dist = settings.dist_dir.clone();
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let app = App::new()
                .wrap(from_fn(methods::enforce))
                .wrap(Compress::default())
                .wrap(from_fn(security_headers))
                .wrap(TracingLogger::<RetailRootSpan>::new())
                .wrap(from_fn(crate::http::metrics::track))
                .wrap(from_fn(request_id::assign))
                .app_data(app_state.clone())
                .app_data(routes.clone())
                .app_data(trusted.clone())
                .app_data(web::Data::new(metrics.clone()))
                .app_data(web::Data::from(app_state.monitor.clone()))
                .app_data(BodyLimit(body_limit))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(web::PathConfig::default().error_handler(extract::path_error))
                // Registered before the /api scope, which would otherwise claim these paths.
                .service(web::redirect("/api/docs", "/api/docs/"))
                .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", spec.clone()))
                .into_utoipa_app()
                .configure(ops_routes)
                .configure(api_routes(&limiters))
                .into_app()
                // The demo products' pictures, built in: served with or without the SPA, and
                // ahead of its catch-all file service.
                .service(spa::image_routes());
            match &spa {
                Some(index) => app
                    .app_data(web::Data::from(index.clone()))
                    .route("/", web::get().to(spa::index))
                    .route("/index.html", web::get().to(spa::index))
                    // Hashed assets: a year, immutable; precompressed .br/.gz siblings when
                    // the client accepts them (Compress skips what already has an encoding).
                    .service(web::scope("").wrap(from_fn(spa::asset_headers)).service(
                        Files::new("/", &dist).try_compressed().default_handler(spa_fallback(index.clone())),
                    )),
                None => app.default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::NotFound(
                        "no such page (the SPA is not built: run `make run`)".into(),
                    ))
                })),
            }
        })
        .listen(listener)?;
        if let Some(n) = settings.http_workers {
            server = server.workers(n.max(1));
        }
        let server = server.run();
        tokio::spawn(prune_limiters(state.clone().into_inner()));
        tracing::info!(addr = %settings.addr, port, "listening");
        Ok(Application { port, server, state })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use it to reach the database).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Unknown non-API GET paths are client-side routes: answer with the SPA's index.
fn spa_fallback(
    index: Arc<SpaIndex>,
) -> impl actix_web::dev::ServiceFactory<
    ServiceRequest,
    Config = (),
    Response = ServiceResponse,
    Error = actix_web::Error,
    InitError = (),
> {
    fn_service(move |req: ServiceRequest| {
        let index = index.clone();
        async move {
            let (req, _) = req.into_parts();
            let res = if req.method() == Method::GET || req.method() == Method::HEAD {
                index.respond()
            } else {
                ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())).error_response()
            };
            Ok(ServiceResponse::new(req, res))
        }
    })
}
