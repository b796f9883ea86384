//! Logs through `tracing`: one line per request (with its request ID) to stdout and, when
//! enabled, to a daily file under `<data_dir>/logs/`. The file is always JSON; stdout is
//! human-readable on a terminal and JSON elsewhere (`log.format`).

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, Settings};

/// Whether stdout gets human-readable lines rather than JSON.
pub fn stdout_is_pretty(format: LogFormat, stdout_is_terminal: bool) -> bool {
    match format {
        LogFormat::Auto => stdout_is_terminal,
        LogFormat::Json => false,
        LogFormat::Pretty => true,
    }
}

/// Keeps the background log writers alive; drop it last so buffered lines are flushed.
#[must_use]
#[derive(Debug)]
pub struct LogGuards(#[allow(dead_code)] Vec<WorkerGuard>);

/// Installs the global subscriber. Call once, from `main`.
pub fn init(settings: &Settings) -> LogGuards {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let mut guards = Vec::new();
    let mut layers: Vec<Box<dyn Layer<_> + Send + Sync>> = Vec::new();
    // FmtSpan::CLOSE: tracing-actix-web's request span closes when the response is sent,
    // which yields the one-line-per-request log with status, route and duration.
    let json = || {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::CLOSE)
    };
    if settings.log.to_stdout {
        let terminal = std::io::stdout().is_terminal();
        let (w, g) = tracing_appender::non_blocking(std::io::stdout());
        guards.push(g);
        if stdout_is_pretty(settings.log.format, terminal) {
            let pretty = tracing_subscriber::fmt::layer()
                .with_ansi(terminal)
                .with_target(false)
                .with_span_events(FmtSpan::CLOSE)
                .with_writer(w);
            layers.push(pretty.boxed());
        } else {
            layers.push(json().with_writer(w).boxed());
        }
    }
    if settings.log.to_file {
        let dir = settings.data_dir.join("logs");
        if std::fs::create_dir_all(&dir).is_ok() {
            let (w, g) = tracing_appender::non_blocking(tracing_appender::rolling::daily(dir, "retail.log"));
            guards.push(g);
            layers.push(json().with_writer(w).boxed());
        }
    }
    tracing_subscriber::registry().with(layers).with(filter).init();
    LogGuards(guards)
}

/// For tests: logs to the test harness's captured output when `TEST_LOG` is set.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ =
            tracing_subscriber::fmt().with_env_filter(EnvFilter::new("info")).with_test_writer().try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_pretty_only_on_a_terminal_and_explicit_formats_win() {
        assert!(stdout_is_pretty(LogFormat::Auto, true));
        assert!(!stdout_is_pretty(LogFormat::Auto, false));
        assert!(!stdout_is_pretty(LogFormat::Json, true));
        assert!(stdout_is_pretty(LogFormat::Pretty, false));
    }
}
