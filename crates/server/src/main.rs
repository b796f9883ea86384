//! `retail`: one binary for the server, the worker and the admin commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use retail_server::config::Settings;
use retail_server::http::Limiters;
use retail_server::http::metrics::Metrics;
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
    /// Run background jobs (session purge, stock reconciliation).
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
}

fn main() -> ExitCode {
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
        .and_then(|m| Limiters::new(&settings.limits, &m))
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
            if once {
                let r = worker::run_once(&db).await.map_err(|e| format!("{e:?}"))?;
                println!(
                    "sessions purged: {}, stock discrepancies: {}",
                    r.sessions_purged, r.stock_discrepancies
                );
            } else {
                worker::run(db, std::time::Duration::from_secs(every.max(1))).await;
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
                "seed: {} account(s) and {} product(s) created ({} products defined)",
                r.accounts_created,
                r.products_created,
                seed::product_count()
            );
            println!("demo accounts (change or remove them before going live):");
            for a in seed::DEMO_ACCOUNTS {
                println!("  {:<10} {:<24} {}", a.role.as_str(), a.email, a.password);
            }
            Ok(())
        }
        Command::Openapi => Ok(()),
    }
}

fn display_addr(addr: &str, port: u16) -> String {
    match addr.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{addr}:{port}"),
    }
}
