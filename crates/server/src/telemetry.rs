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
            layers.push(json_layer(w).boxed());
        }
    }
    if settings.log.to_file {
        let dir = settings.data_dir.join("logs");
        match std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|()| log_file(&dir, settings.log.keep_files))
        {
            Ok(file) => {
                let (w, g) = tracing_appender::non_blocking(file);
                guards.push(g);
                layers.push(json_layer(w).boxed());
            }
            Err(e) => eprintln!("retail: cannot write logs under {}: {e}", dir.display()),
        }
    }
    layers.push(crate::monitor::RingLayer::new().boxed());
    tracing_subscriber::registry().with(layers).with(filter).init();
    LogGuards(guards)
}

/// The daily log file under `dir` (`retail.<date>.log`), keeping the newest `keep` files.
pub fn log_file(
    dir: &std::path::Path,
    keep: usize,
) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("retail")
        .filename_suffix("log")
        .max_log_files(keep.max(1))
        .build(dir)
        .map_err(|e| e.to_string())
}

/// The JSON lines the file log gets (one per event, and one per request when its span
/// closes), written to `w`: for tests that read what production would log.
pub fn json_layer<S, W>(w: W) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(w)
}

/// For tests of what production logs: installs the JSON layer writing to `w` and the log
/// buffer, with the default `info` filter, as the global subscriber. `false` when one was
/// installed before.
pub fn init_json_for_tests<W>(w: W) -> bool
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(json_layer(w))
        .with(crate::monitor::RingLayer::new())
        .with(EnvFilter::new(crate::config::LogSettings::default().level))
        .try_init()
        .is_ok()
}

/// For tests: the log buffer of the monitoring API, and logs to the test harness's captured
/// output when `TEST_LOG` is set.
pub fn init_for_tests() {
    let test_writer = std::env::var_os("TEST_LOG")
        .is_some()
        .then(|| tracing_subscriber::fmt::layer().with_test_writer().with_filter(EnvFilter::new("info")));
    let _ = tracing_subscriber::registry()
        .with(crate::monitor::RingLayer::new().with_filter(tracing_subscriber::filter::LevelFilter::INFO))
        .with(test_writer)
        .try_init();
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
