//! `/admin/dashboard`: the operations dashboard. Headline cards, request rate and latency
//! charts (inline SVG), traffic per endpoint, the SLOs and their error budgets, the returns
//! funnel, reconciliation and worker health, and a filterable view of the recent log events.
//! Everything is read again every few seconds (Pause stops that) without a "Loading" flash;
//! Export JSON saves the snapshot in hand.

use chrono::{DateTime, Datelike, Timelike, Utc};
use gloo::timers::callback::Timeout;
use retail_api_types::{
    Currency, EndpointStats, LogEvent, LogLevel, LogQuery, MonitorWindow, MonitoringSnapshot,
    ReconciliationSummary, RmaFigures, SeriesPoint, SloStatus, WorkerHealth,
};
use serde::Serialize;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use super::returns::stage_label;
use super::{AdminNav, Forbidden, bind_input};
use crate::components::{ErrorBox, Loading, Select};
use crate::format::format_money;
use crate::hooks::{Load, use_polled_while, use_session, use_title};
use crate::routes::Route;
use crate::services::monitoring;

/// How often the snapshot and the log events are read again, in milliseconds.
pub const REFRESH_MS: u32 = 5_000;

/// Log events shown at most.
pub const LOG_LIMIT: u32 = 100;

/// The currency revenue and refunds are shown in (the cards carry bare minor units).
const MONEY: Currency = Currency::EUR;

// ---------------------------------------------------------------- pure helpers

/// Where a chart draws, in SVG user units: the whole picture and the margins around the plot
/// (room for the axis labels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    /// The dashboard's charts.
    pub const CHART: Frame =
        Frame { width: 600.0, height: 180.0, left: 64.0, right: 12.0, top: 12.0, bottom: 24.0 };

    fn plot_width(self) -> f64 {
        (self.width - self.left - self.right).max(0.0)
    }

    fn plot_height(self) -> f64 {
        (self.height - self.top - self.bottom).max(0.0)
    }

    /// The y of the plot's floor (value 0).
    pub fn floor(self) -> f64 {
        self.height - self.bottom
    }

    /// The x of point `i` of `n`, evenly spaced across the plot (a lone point in the middle).
    pub fn x(self, i: usize, n: usize) -> f64 {
        if n <= 1 {
            return self.left + self.plot_width() / 2.0;
        }
        self.left + self.plot_width() * i as f64 / (n - 1) as f64
    }

    /// The y of `value` on an axis from 0 to `max` (values outside are clamped to the plot).
    pub fn y(self, value: f64, max: f64) -> f64 {
        let share = if max > 0.0 { (value / max).clamp(0.0, 1.0) } else { 0.0 };
        self.top + self.plot_height() * (1.0 - share)
    }
}

/// The top of a y axis that starts at 0 and shows `values`: the largest finite value rounded
/// up to a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten); 1 when there is
/// nothing above 0.
pub fn axis_max(values: impl IntoIterator<Item = f64>) -> f64 {
    let top = values.into_iter().filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if top <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(top.log10().floor());
    let steps = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
    let step = steps.into_iter().find(|s| s * power >= top * (1.0 - 1e-9)).unwrap_or(10.0);
    step * power
}

/// The smallest and largest finite value, if any.
pub fn min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// An SVG path (`d`) through `values` in `frame` on an axis from 0 to `max`: one subpath per
/// run of known values (a missing or non-finite value breaks the line); a lone known value
/// is a dot (a tiny stroke, drawn round by the stylesheet). Empty when nothing is known.
pub fn line_path(values: &[Option<f64>], frame: Frame, max: f64) -> String {
    let n = values.len();
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for (i, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => {
                let point = (frame.x(i, n), frame.y(v, max));
                match runs.last_mut() {
                    Some(run) if open => run.push(point),
                    _ => runs.push(vec![point]),
                }
                open = true;
            }
            None => open = false,
        }
    }
    let mut d = String::new();
    for run in &runs {
        for (j, (x, y)) in run.iter().enumerate() {
            if !d.is_empty() {
                d.push(' ');
            }
            d.push_str(&format!("{}{x:.1},{y:.1}", if j == 0 { 'M' } else { 'L' }));
        }
        if run.len() == 1 {
            d.push_str(" h0.1");
        }
    }
    d
}

/// How long something has been up, coarsely: `42s`, `5m 07s`, `3h 12m`, `2d 4h`.
pub fn format_uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {s:02}s"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// A share (0 to 1) as a percentage with at most two decimals: `0.999` -> `99.9%`, `1` ->
/// `100%`, `0.00001` -> `<0.01%`; `—` when it is not a number.
pub fn format_percent(share: f64) -> String {
    if !share.is_finite() {
        return "—".to_owned();
    }
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 0.005 {
        return if p > 0.0 { "<0.01%".to_owned() } else { ">-0.01%".to_owned() };
    }
    let text = format!("{p:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{}%", if text == "-0" { "0" } else { text })
}

/// A latency: `0 ms`, `0.42 ms`, `3.5 ms`, `120 ms`, `1.25 s`; `—` when unknown.
pub fn format_ms(ms: Option<f64>) -> String {
    match ms.filter(|v| v.is_finite() && *v >= 0.0) {
        None => "—".to_owned(),
        Some(0.0) => "0 ms".to_owned(),
        Some(v) if v < 1.0 => format!("{v:.2} ms"),
        Some(v) if v < 10.0 => format!("{v:.1} ms"),
        Some(v) if v < 1000.0 => format!("{v:.0} ms"),
        Some(v) => format!("{:.2} s", v / 1000.0),
    }
}

/// A request rate: `0/s`, `0.25/s`, `12.5/s`, `340/s`.
pub fn format_rate(per_sec: f64) -> String {
    match per_sec {
        r if !r.is_finite() || r < 0.0 => "—".to_owned(),
        0.0 => "0/s".to_owned(),
        r if r < 10.0 => format!("{r:.2}/s"),
        r if r < 100.0 => format!("{r:.1}/s"),
        r => format!("{r:.0}/s"),
    }
}

/// A bar's length in percent of the longest: `count` of `max` (0 when there is nothing).
pub fn bar_percent(count: i64, max: i64) -> f64 {
    if max <= 0 {
        return 0.0;
    }
    (count.max(0) as f64 * 100.0 / max as f64).clamp(0.0, 100.0)
}

/// `14:03:07` (UTC).
pub fn clock_time(at: &DateTime<Utc>) -> String {
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

/// `14:03:07.250` (UTC), for log events.
pub fn log_time(at: &DateTime<Utc>) -> String {
    format!("{}.{:03}", clock_time(at), at.timestamp_subsec_millis().min(999))
}

/// The file name of an exported snapshot: `monitoring-20260105T140307Z.json`.
pub fn export_name(at: &DateTime<Utc>) -> String {
    format!(
        "monitoring-{:04}{:02}{:02}T{:02}{:02}{:02}Z.json",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The payment breaker's state in plain words.
pub fn breaker_label(state: &str) -> String {
    match state {
        "closed" => "Closed".to_owned(),
        "open" => "Open".to_owned(),
        "half_open" => "Half-open".to_owned(),
        other => other.to_owned(),
    }
}

/// CSS classes of the breaker's tag: green when closed, amber half-open, red open.
pub fn breaker_class(state: &str) -> &'static str {
    match state {
        "closed" => "tag tag-ok",
        "half_open" => "tag tag-warning",
        "open" => "tag tag-danger",
        _ => "tag tag-muted",
    }
}

/// Every log level, most severe first (the filter's order).
pub const LEVELS: [LogLevel; 5] =
    [LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug, LogLevel::Trace];

/// A level's name on the wire.
pub fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

/// Parses a level's name.
pub fn parse_level(raw: &str) -> Option<LogLevel> {
    LEVELS.into_iter().find(|l| level_name(*l) == raw)
}

/// CSS classes of a level's tag.
pub fn level_class(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Error => "tag tag-danger",
        LogLevel::Warn => "tag tag-warning",
        LogLevel::Info => "tag tag-info",
        LogLevel::Debug | LogLevel::Trace => "tag tag-muted",
    }
}

/// The window named in the query string (`?window=1h`); 15 minutes when absent or junk.
pub fn window_of(query_str: &str) -> MonitorWindow {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query_str.trim_start_matches('?'))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "window")
        .and_then(|(_, v)| MonitorWindow::ALL.into_iter().find(|w| w.as_str() == v.trim()))
        .unwrap_or_default()
}

/// The page's query string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct DashboardUrl {
    window: &'static str,
}

/// What the log viewer asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogFilter {
    /// Only events at this level or above.
    pub level: Option<LogLevel>,
    /// Only this route template (empty: any).
    pub route: String,
    /// Only this request (empty: any).
    pub request_id: String,
}

impl LogFilter {
    /// The API query (blank text filters are left out).
    pub fn to_api(&self) -> LogQuery {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        LogQuery {
            level: self.level,
            route: text(&self.route),
            request_id: text(&self.request_id),
            limit: Some(LOG_LIMIT),
        }
    }
}

// ---------------------------------------------------------------- the page

/// `/admin/dashboard`.
#[component]
pub fn AdminDashboardPage() -> Html {
    use_title("Operations · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminDashboard /> }
}

#[component]
fn AdminDashboard() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let window = location.map(|l| window_of(l.query_str())).unwrap_or_default();
    let paused = use_state(|| false);
    let polled = {
        let api = session.api.clone();
        use_polled_while(window, REFRESH_MS, !*paused, move |w| {
            let api = api.clone();
            async move { monitoring::snapshot(&api, w).await }
        })
    };
    // The last snapshot shown: kept on screen while another window's first read is under way.
    let shown = use_mut_ref(|| None::<MonitoringSnapshot>);
    if let Load::Ready(s) = polled.get() {
        *shown.borrow_mut() = Some(s.clone());
    }
    let current = shown.borrow().clone();
    let export_error = use_state(|| None::<String>);

    let on_window = {
        let navigator = navigator.clone();
        move |w: MonitorWindow| {
            let navigator = navigator.clone();
            Callback::from(move |_: MouseEvent| {
                let Some(nav) = &navigator else { return };
                if let Err(e) =
                    nav.push_with_query(&Route::AdminDashboard, &DashboardUrl { window: w.as_str() })
                {
                    gloo::console::error!(format!("navigation failed: {e}"));
                }
            })
        }
    };
    let on_pause = {
        let (paused, refresh) = (paused.clone(), polled.refresher());
        Callback::from(move |_: MouseEvent| {
            if *paused {
                // Resuming: read at once rather than at the next tick.
                refresh.emit(());
            }
            paused.set(!*paused);
        })
    };
    let on_export = {
        let (current, export_error) = (current.clone(), export_error.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(s) = &current else { return };
            export_error.set(download_json(s).err());
        })
    };

    let toolbar = html! {
        <div id="dashboard-toolbar" class="dashboard-toolbar">
            <nav id="window-picker" class="admin-nav outbox-states window-picker" aria-label="Time window">
                { for MonitorWindow::ALL.into_iter().map(|w| html! {
                    <button id={format!("window-{}", w.as_str())} type="button"
                        class={classes!("tab", (w == window).then_some("active"))}
                        aria-pressed={(w == window).to_string()} onclick={on_window(w)}>
                        { window_label(w) }
                    </button>
                }) }
            </nav>
            <div class="row-buttons">
                <button id="pause" type="button" class="button-secondary" aria-pressed={paused.to_string()}
                    data-paused={paused.to_string()} onclick={on_pause}>
                    { if *paused { "Resume" } else { "Pause" } }
                </button>
                <button id="export" type="button" class="button-secondary" disabled={current.is_none()}
                    onclick={on_export}>
                    { "Export JSON" }
                </button>
            </div>
            if let Some(s) = &current {
                <p id="generated-at" class="muted" data-at={s.generated_at.to_rfc3339()}>
                    { format!("Updated {} UTC", clock_time(&s.generated_at)) }
                    if *paused { { " · paused" } }
                    else if matches!(polled.get(), Load::Loading) { { " · updating…" } }
                    else { { format!(" · every {} s", REFRESH_MS / 1000) } }
                </p>
            }
        </div>
    };

    let body = match (polled.get(), &current) {
        (Load::Failed(e), _) if e.status() == Some(403) => html! { <Forbidden /> },
        (Load::Failed(e), _) => html! { <ErrorBox error={e.clone()} on_retry={polled.reloader()} /> },
        (Load::Loading, None) => html! { <Loading /> },
        (_, Some(s)) => html! { <Snapshot snapshot={s.clone()} /> },
        (Load::Ready(s), None) => html! { <Snapshot snapshot={s.clone()} /> },
    };

    html! {
        <section id="dashboard" class="admin-page dashboard-page"
            aria-busy={matches!(polled.get(), Load::Loading).to_string()}>
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <h2>{ "Operations" }</h2>
            { toolbar }
            if let Some(e) = polled.stale() {
                <div id="dashboard-stale" class="alert alert-warning" role="status">
                    { format!("The last refresh failed ({}); the figures shown are older.", e.detail()) }
                </div>
            }
            if let Some(e) = &*export_error {
                <div id="export-error" class="alert alert-error" role="alert">{ e }</div>
            }
            { body }
            <LogViewer running={!*paused} />
        </section>
    }
}

fn window_label(w: MonitorWindow) -> &'static str {
    match w {
        MonitorWindow::OneMinute => "1 min",
        MonitorWindow::FifteenMinutes => "15 min",
        MonitorWindow::OneHour => "1 hour",
    }
}

/// Saves `snapshot` as a pretty-printed `.json` file (a Blob behind an object URL, clicked
/// through a temporary `<a download>`).
fn download_json(snapshot: &MonitoringSnapshot) -> Result<(), String> {
    let text = serde_json::to_string_pretty(snapshot).map_err(|e| format!("Cannot export: {e}"))?;
    let url = gloo::file::ObjectUrl::from(gloo::file::Blob::new_with_options(
        text.as_str(),
        Some("application/json"),
    ));
    let doc = gloo::utils::document();
    let fail = || "Cannot export: the browser refused the download.".to_owned();
    let link: web_sys::HtmlElement =
        doc.create_element("a").map_err(|_| fail())?.dyn_into().map_err(|_| fail())?;
    link.set_attribute("href", &url).map_err(|_| fail())?;
    link.set_attribute("download", &export_name(&snapshot.generated_at)).map_err(|_| fail())?;
    link.set_attribute("hidden", "").map_err(|_| fail())?;
    let body = doc.body().ok_or_else(fail)?;
    body.append_child(&link).map_err(|_| fail())?;
    link.click();
    link.remove();
    // The browser reads the file after the click returns: revoke the URL only later.
    Timeout::new(60_000, move || drop(url)).forget();
    Ok(())
}

#[derive(Properties, PartialEq)]
struct SnapshotProps {
    snapshot: MonitoringSnapshot,
}

/// Everything but the toolbar and the log viewer.
#[component]
fn Snapshot(props: &SnapshotProps) -> Html {
    let s = &props.snapshot;
    let c = &s.cards;
    let card = |class: &'static str, label: &'static str, value: String, raw: String, extra: Html| {
        html! {
            <div class={classes!("metric-card", class)} data-value={raw}>
                <div class="label">{ label }</div>
                <div class="value">{ value }</div>
                { extra }
            </div>
        }
    };
    let none = || html! {};
    html! {
        <>
            <div id="cards" class="metric-cards">
                { card("card-orders", "Orders today", c.orders_today.to_string(), c.orders_today.to_string(), none()) }
                { card("card-revenue", "Revenue today", format_money(c.revenue_today_cents, MONEY),
                    c.revenue_today_cents.to_string(), none()) }
                { card("card-refunds", "Refunds today", format_money(c.refunds_today_cents, MONEY),
                    c.refunds_today_cents.to_string(), none()) }
                { card("card-rmas", "Returns open", c.rmas_open.to_string(), c.rmas_open.to_string(), none()) }
                { card("card-error-rate", "Error rate", format_percent(c.error_rate), c.error_rate.to_string(),
                    html! { <div class="muted">{ "5xx answers" }</div> }) }
                { card("card-p95", "Latency p95", format_ms(c.p95_ms),
                    c.p95_ms.map(|v| v.to_string()).unwrap_or_default(), none()) }
                { card("card-rate", "Requests", format_rate(c.rate_per_sec), c.rate_per_sec.to_string(), none()) }
                <div class="metric-card card-breaker" data-value={c.breaker.clone()}>
                    <div class="label">{ "Payment breaker" }</div>
                    <div class="value">
                        <span class={breaker_class(&c.breaker)} data-state={c.breaker.clone()}>
                            { breaker_label(&c.breaker) }
                        </span>
                    </div>
                </div>
                { card("card-uptime", "Uptime", format_uptime(c.uptime_secs), c.uptime_secs.to_string(), none()) }
            </div>
            <div class="dashboard-charts">
                { rate_chart(&s.series, s.step_secs) }
                { latency_chart(&s.series, s.step_secs) }
            </div>
            <h3>{ "Endpoints" }</h3>
            { endpoints_table(&s.endpoints) }
            <h3>{ "Service-level objectives" }</h3>
            { slo_table(&s.slos) }
            <div class="dashboard-columns">
                <div>
                    <h3>{ "Returns by stage" }</h3>
                    { funnel(&s.returns) }
                </div>
                <div>
                    <h3>{ "Reconciliation" }</h3>
                    { reconciliation(s.reconciliation.as_ref()) }
                    <h3>{ "Worker" }</h3>
                    { worker(&s.worker) }
                </div>
            </div>
        </>
    }
}

/// One line of a chart.
struct ChartLine {
    name: &'static str,
    class: &'static str,
    values: Vec<Option<f64>>,
}

/// `figure#<id>.chart`: the lines over the series' time span, a y axis from 0 (labelled at
/// both ends), the first and last times under it, and "No traffic yet" without data.
fn chart(
    id: &'static str,
    title: &'static str,
    series: &[SeriesPoint],
    step_secs: u32,
    lines: Vec<ChartLine>,
    empty: bool,
    fmt: fn(f64) -> String,
) -> Html {
    let f = Frame::CHART;
    let known = || lines.iter().flat_map(|l| l.values.iter().flatten().copied());
    let max = axis_max(known());
    let range = if empty { None } else { min_max(known()) };
    let (first, last) = (series.first(), series.last());
    html! {
        <figure id={id} class="chart" data-points={series.len().to_string()}
            data-empty={empty.to_string()} data-max={max.to_string()}>
            <figcaption>
                <span class="chart-title">{ title }</span>
                if let Some((lo, hi)) = range {
                    <span class="chart-range muted">{ format!("min {} · max {}", fmt(lo), fmt(hi)) }</span>
                }
            </figcaption>
            <svg viewBox={format!("0 0 {} {}", f.width, f.height)} role="img" aria-label={title}>
                <line class="chart-axis" x1={f.left.to_string()} y1={f.top.to_string()}
                    x2={f.left.to_string()} y2={f.floor().to_string()} />
                <line class="chart-axis" x1={f.left.to_string()} y1={f.floor().to_string()}
                    x2={(f.width - f.right).to_string()} y2={f.floor().to_string()} />
                <line class="chart-grid" x1={f.left.to_string()} y1={f.top.to_string()}
                    x2={(f.width - f.right).to_string()} y2={f.top.to_string()} />
                <text class="chart-label y-max" x={(f.left - 6.0).to_string()} y={(f.top + 4.0).to_string()}
                    text-anchor="end">{ fmt(max) }</text>
                <text class="chart-label y-min" x={(f.left - 6.0).to_string()} y={f.floor().to_string()}
                    text-anchor="end">{ fmt(0.0) }</text>
                if let (Some(a), Some(b)) = (first, last) {
                    <text class="chart-label x-min" x={f.left.to_string()} y={(f.height - 6.0).to_string()}
                        text-anchor="start">{ clock_time(&a.at) }</text>
                    <text class="chart-label x-max" x={(f.width - f.right).to_string()}
                        y={(f.height - 6.0).to_string()} text-anchor="end">
                        { clock_time(&(b.at + chrono::Duration::seconds(i64::from(step_secs)))) }
                    </text>
                }
                if empty {
                    <text class="chart-empty" x={(f.left + (f.width - f.left - f.right) / 2.0).to_string()}
                        y={(f.height / 2.0).to_string()} text-anchor="middle">{ "No traffic yet" }</text>
                } else {
                    { for lines.iter().map(|l| html! {
                        <path class={classes!("chart-line", l.class)} d={line_path(&l.values, f, max)}>
                            <title>{ l.name }</title>
                        </path>
                    }) }
                }
            </svg>
            if lines.len() > 1 && !empty {
                <ul class="chart-legend">
                    { for lines.iter().map(|l| html! {
                        <li class={l.class}><span class="swatch" aria-hidden="true"></span>{ l.name }</li>
                    }) }
                </ul>
            }
            if empty {
                <p class="chart-empty-text muted">{ "No traffic yet" }</p>
            }
        </figure>
    }
}

fn rate_chart(series: &[SeriesPoint], step_secs: u32) -> Html {
    let values = series.iter().map(|p| Some(p.rate_per_sec)).collect();
    let empty = !series.iter().any(|p| p.requests > 0);
    let lines = vec![ChartLine { name: "Requests per second", class: "line-rate", values }];
    chart("chart-rate", "Request rate", series, step_secs, lines, empty, format_rate)
}

fn latency_chart(series: &[SeriesPoint], step_secs: u32) -> Html {
    let p50: Vec<Option<f64>> = series.iter().map(|p| p.p50_ms).collect();
    let p95: Vec<Option<f64>> = series.iter().map(|p| p.p95_ms).collect();
    let empty = p50.iter().chain(&p95).all(|v| v.is_none_or(|v| !v.is_finite()));
    let lines = vec![
        ChartLine { name: "p50", class: "line-p50", values: p50 },
        ChartLine { name: "p95", class: "line-p95", values: p95 },
    ];
    chart("chart-latency", "Latency", series, step_secs, lines, empty, |v| format_ms(Some(v)))
}

fn endpoints_table(endpoints: &[EndpointStats]) -> Html {
    if endpoints.is_empty() {
        return html! { <div id="endpoints-empty" class="empty-state"><p>{ "No traffic yet" }</p></div> };
    }
    html! {
        <div class="table-wrap">
            <table id="endpoints" class="data-table dashboard-table">
                <thead>
                    <tr>
                        <th>{ "Method" }</th><th>{ "Route" }</th><th class="num">{ "Requests" }</th>
                        <th class="num">{ "Rate" }</th><th class="num">{ "5xx" }</th><th class="num">{ "4xx" }</th>
                        <th class="num">{ "p50" }</th><th class="num">{ "p95" }</th><th class="num">{ "p99" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for endpoints.iter().map(|e| html! {
                        <tr key={format!("{} {}", e.method, e.route)} class="endpoint-row"
                            data-method={e.method.clone()} data-route={e.route.clone()}
                            data-requests={e.requests.to_string()}>
                            <td data-label="Method" class="endpoint-method"><code>{ &e.method }</code></td>
                            <td data-label="Route" class="endpoint-route cell-name">
                                if e.route.is_empty() { { "—" } } else { <code>{ &e.route }</code> }
                            </td>
                            <td data-label="Requests" class="num endpoint-requests">{ e.requests }</td>
                            <td data-label="Rate" class="num">{ format_rate(e.rate_per_sec) }</td>
                            <td data-label="5xx" class={classes!("num", (e.error_rate > 0.0).then_some("bad"))}>
                                { format_percent(e.error_rate) }
                            </td>
                            <td data-label="4xx" class="num">{ format_percent(e.client_error_rate) }</td>
                            <td data-label="p50" class="num">{ format_ms(Some(e.p50_ms)) }</td>
                            <td data-label="p95" class="num">{ format_ms(Some(e.p95_ms)) }</td>
                            <td data-label="p99" class="num">{ format_ms(Some(e.p99_ms)) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

fn slo_table(slos: &[SloStatus]) -> Html {
    if slos.is_empty() {
        return html! { <div id="slos-empty" class="empty-state"><p>{ "No objectives defined" }</p></div> };
    }
    html! {
        <div class="table-wrap">
            <table id="slos" class="data-table dashboard-table">
                <thead>
                    <tr>
                        <th>{ "Objective" }</th><th class="num">{ "Target" }</th><th class="num">{ "Actual" }</th>
                        <th>{ "Error budget left" }</th><th class="num">{ "Burn rate" }</th><th>{ "Status" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for slos.iter().map(|s| {
                        let budget = (s.budget_remaining * 100.0).clamp(0.0, 100.0);
                        html! {
                            <tr key={s.name.clone()} class={classes!("slo-row", (!s.met).then_some("missed"))}
                                data-name={s.name.clone()} data-met={s.met.to_string()}>
                                <td data-label="Objective" class="cell-name">
                                    <strong>{ &s.name }</strong>
                                    <div class="muted">{ &s.description }</div>
                                    <div class="muted">{ format!("{} of {} good", s.good, s.total) }</div>
                                </td>
                                <td data-label="Target" class="num slo-objective">{ format_percent(s.objective) }</td>
                                <td data-label="Actual" class="num slo-ratio">
                                    { s.ratio.map_or_else(|| "—".to_owned(), format_percent) }
                                </td>
                                <td data-label="Budget left" class="slo-budget">
                                    <div class="bar" role="meter" aria-valuemin="0" aria-valuemax="100"
                                        aria-valuenow={format!("{budget:.0}")} aria-label="Error budget left">
                                        <div class={classes!("bar-fill", budget_class(s.budget_remaining))}
                                            style={format!("width: {budget:.1}%")}></div>
                                    </div>
                                    <span class="bar-text">{ format_percent(s.budget_remaining) }</span>
                                </td>
                                <td data-label="Burn rate" class="num slo-burn">{ format!("{:.2}×", s.burn_rate) }</td>
                                <td data-label="Status">
                                    <span class={if s.met { "tag tag-ok" } else { "tag tag-danger" }}>
                                        { if s.met { "Met" } else { "Not met" } }
                                    </span>
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// The budget bar's colour: green with more than half left, amber above none, red spent.
fn budget_class(remaining: f64) -> &'static str {
    match remaining {
        r if r > 0.5 => "ok",
        r if r > 0.0 => "warning",
        _ => "danger",
    }
}

fn funnel(figures: &RmaFigures) -> Html {
    let max = figures.stages.iter().map(|s| s.count).max().unwrap_or(0);
    html! {
        <ol id="funnel" class="funnel" data-max={max.to_string()}>
            { for figures.stages.iter().map(|s| {
                let width = bar_percent(s.count, max);
                html! {
                    <li key={s.stage.as_str()} class="funnel-row" data-stage={s.stage.as_str()}
                        data-count={s.count.to_string()}>
                        <span class="funnel-label">{ stage_label(s.stage) }</span>
                        <span class="bar" aria-hidden="true">
                            <span class="bar-fill" style={format!("width: {width:.1}%")}></span>
                        </span>
                        <span class="funnel-count">{ s.count }</span>
                    </li>
                }
            }) }
        </ol>
    }
}

fn reconciliation(summary: Option<&ReconciliationSummary>) -> Html {
    match summary {
        None => html! {
            <p id="reconciliation" data-mismatches="">
                <span class="tag tag-muted">{ "Not run yet" }</span>
            </p>
        },
        Some(r) => html! {
            <p id="reconciliation" data-mismatches={r.mismatches.to_string()}>
                if r.mismatches == 0 {
                    <span class="tag tag-ok">{ "Clean" }</span>
                } else {
                    <span class="tag tag-danger">
                        { format!("{} mismatch{}", r.mismatches, if r.mismatches == 1 { "" } else { "es" }) }
                    </span>
                }
                <span class="muted">{ format!(" checked {} UTC", clock_time(&r.report.checked_at)) }</span>
            </p>
        },
    }
}

fn worker(w: &WorkerHealth) -> Html {
    let age =
        w.heartbeat_age_secs.map_or_else(|| "never".to_owned(), |s| format!("{} ago", format_uptime(s)));
    html! {
        <div id="worker" data-healthy={w.healthy.to_string()}>
            <p>
                <span class={if w.healthy { "tag tag-ok" } else { "tag tag-danger" }}>
                    { if w.healthy { "Healthy" } else { "Unhealthy" } }
                </span>
                <span id="worker-heartbeat" class="muted"
                    data-age={w.heartbeat_age_secs.map(|s| s.to_string())}>
                    { format!(" last heartbeat {age}") }
                </span>
            </p>
            if w.backlog.is_empty() {
                <p class="muted">{ "No queues." }</p>
            } else {
                <ul id="backlog" class="backlog">
                    { for w.backlog.iter().map(|q| html! {
                        <li key={q.queue.clone()} data-queue={q.queue.clone()} data-jobs={q.jobs.to_string()}>
                            <code>{ &q.queue }</code>{ format!(": {} waiting", q.jobs) }
                        </li>
                    }) }
                </ul>
            }
        </div>
    }
}

// ---------------------------------------------------------------- logs

#[derive(Properties, PartialEq)]
struct LogViewerProps {
    /// Read again every few seconds (false while the dashboard is paused).
    running: bool,
}

/// `#log-viewer`: filters (level applies at once; route and request ID on Filter or Enter)
/// and `table#logs`, with its own loading and error state.
#[component]
fn LogViewer(props: &LogViewerProps) -> Html {
    let session = use_session();
    let filter = use_state(LogFilter::default);
    let route = use_state(String::new);
    let request_id = use_state(String::new);
    let polled = {
        let api = session.api.clone();
        use_polled_while((*filter).clone(), REFRESH_MS, props.running, move |f: LogFilter| {
            let api = api.clone();
            async move { monitoring::logs(&api, &f.to_api()).await }
        })
    };
    let on_level = {
        let filter = filter.clone();
        Callback::from(move |raw: String| {
            filter.set(LogFilter { level: parse_level(&raw), ..(*filter).clone() })
        })
    };
    let on_submit = {
        let (filter, route, request_id) = (filter.clone(), route.clone(), request_id.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            filter.set(LogFilter {
                route: route.trim().to_owned(),
                request_id: request_id.trim().to_owned(),
                ..(*filter).clone()
            });
        })
    };
    let on_clear = {
        let (filter, route, request_id) = (filter.clone(), route.clone(), request_id.clone());
        Callback::from(move |_: MouseEvent| {
            route.set(String::new());
            request_id.set(String::new());
            filter.set(LogFilter::default());
        })
    };
    let pick_request = {
        let (filter, request_id) = (filter.clone(), request_id.clone());
        move |id: String| {
            let (filter, request_id) = (filter.clone(), request_id.clone());
            Callback::from(move |_: MouseEvent| {
                request_id.set(id.clone());
                filter.set(LogFilter { request_id: id.clone(), ..(*filter).clone() });
            })
        }
    };
    let mut level_options = vec![(String::new(), "All levels".to_owned())];
    level_options
        .extend(LEVELS.iter().map(|l| (level_name(*l).to_owned(), format!("{} and above", level_name(*l)))));
    let level_value = filter.level.map(level_name).unwrap_or_default().to_owned();

    let table = match polled.get() {
        Load::Loading => html! {
            <div id="logs-loading" class="status" role="status" aria-live="polite">{ "Loading events…" }</div>
        },
        Load::Failed(e) => html! {
            <div id="logs-error" class="alert alert-error" role="alert"
                data-status={e.status().map(|s| s.to_string())}>
                <p>{ e.detail() }</p>
                <button id="logs-retry" type="button" onclick={polled.reloader().reform(|_| ())}>{ "Retry" }</button>
            </div>
        },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="logs-empty" class="empty-state"><p>{ "No events match." }</p></div>
        },
        Load::Ready(l) => html! {
            <>
                <p class="muted" id="logs-count">
                    { format!("{} newest events (the server keeps the last {}).", l.items.len(), l.capacity) }
                </p>
                <div class="table-wrap">
                    <table id="logs" class="data-table dashboard-table logs-table">
                        <thead>
                            <tr>
                                <th>{ "Time" }</th><th>{ "Level" }</th><th>{ "Method" }</th><th>{ "Route" }</th>
                                <th class="num">{ "Status" }</th><th class="num">{ "Latency" }</th>
                                <th>{ "Request ID" }</th><th>{ "Message" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|e| log_row(e, &pick_request)) }
                        </tbody>
                    </table>
                </div>
            </>
        },
    };
    html! {
        <section id="log-viewer" class="log-viewer">
            <h3>{ "Recent log events" }</h3>
            <form id="log-filters" class="filters log-filters" role="search" onsubmit={on_submit}>
                <div class="filter-grid">
                    <label>
                        <span>{ "Level" }</span>
                        <Select id="log-level" options={level_options} value={level_value} onchange={on_level} />
                    </label>
                    <label>
                        <span>{ "Route" }</span>
                        <input id="log-route" type="search" placeholder="/api/checkout" value={(*route).clone()}
                            oninput={bind_input(&route)} />
                    </label>
                    <label>
                        <span>{ "Request ID" }</span>
                        <input id="log-request-id" type="search" value={(*request_id).clone()}
                            oninput={bind_input(&request_id)} />
                    </label>
                </div>
                <div class="row-buttons">
                    <button id="log-apply" type="submit">{ "Filter" }</button>
                    <button id="log-clear" type="button" class="button-secondary" onclick={on_clear}>{ "Clear" }</button>
                </div>
            </form>
            if let Some(e) = polled.stale() {
                <div id="logs-stale" class="alert alert-warning" role="status">
                    { format!("The last refresh failed ({}).", e.detail()) }
                </div>
            }
            { table }
        </section>
    }
}

fn log_row(e: &LogEvent, pick_request: &impl Fn(String) -> Callback<MouseEvent>) -> Html {
    let dash = || "—".to_owned();
    let status_class = match e.status {
        Some(s) if s >= 500 => Some("bad"),
        Some(s) if s >= 400 => Some("warn"),
        _ => None,
    };
    let details: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    html! {
        <tr class={classes!("log-row", format!("level-{}", level_name(e.level)))}
            data-level={level_name(e.level)} data-request-id={e.request_id.clone()} data-route={e.route.clone()}>
            <td data-label="Time" class="log-time" title={e.at.to_rfc3339()}>{ log_time(&e.at) }</td>
            <td data-label="Level"><span class={level_class(e.level)}>{ level_name(e.level) }</span></td>
            <td data-label="Method" class="log-method">{ e.method.clone().unwrap_or_else(dash) }</td>
            <td data-label="Route" class="log-route"><code>{ e.route.clone().unwrap_or_else(dash) }</code></td>
            <td data-label="Status" class={classes!("num", "log-status", status_class)}>
                { e.status.map_or_else(dash, |s| s.to_string()) }
            </td>
            <td data-label="Latency" class="num log-latency">{ format_ms(e.latency_ms) }</td>
            <td data-label="Request ID" class="log-request-id">
                if let Some(id) = &e.request_id {
                    <button type="button" class="link-button" title="Only this request"
                        onclick={pick_request(id.clone())}>{ id }</button>
                } else {
                    { "—" }
                }
            </td>
            <td data-label="Message" class="log-message" title={details.join(" ")}>
                { &e.message }
                if !details.is_empty() {
                    <div class="muted log-fields">{ details.join(" ") }</div>
                }
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Frame = Frame { width: 100.0, height: 50.0, left: 0.0, right: 0.0, top: 0.0, bottom: 0.0 };

    #[test]
    fn a_series_is_scaled_into_the_frame_from_zero_to_the_axis_top() {
        let d = line_path(&[Some(0.0), Some(5.0), Some(10.0)], F, 10.0);
        assert_eq!(d, "M0.0,50.0 L50.0,25.0 L100.0,0.0");
        // margins shift and shrink the plot
        let m = Frame { width: 120.0, height: 70.0, left: 10.0, right: 10.0, top: 5.0, bottom: 15.0 };
        assert_eq!(line_path(&[Some(2.0), Some(8.0)], m, 8.0), "M10.0,42.5 L110.0,5.0");
        // values above the top are clamped into the plot, negative ones to its floor
        assert_eq!(line_path(&[Some(20.0), Some(-1.0)], F, 10.0), "M0.0,0.0 L100.0,50.0");
    }

    #[test]
    fn missing_values_break_the_line_and_a_lone_value_is_a_dot() {
        let d = line_path(&[Some(1.0), Some(1.0), None, Some(2.0), None], F, 2.0);
        assert_eq!(d, "M0.0,25.0 L25.0,25.0 M75.0,0.0 h0.1");
        assert_eq!(line_path(&[None, Some(f64::NAN), None], F, 1.0), "");
        assert_eq!(line_path(&[], F, 1.0), "");
        // one point sits in the middle
        assert_eq!(line_path(&[Some(0.5)], F, 1.0), "M50.0,25.0 h0.1");
    }

    #[test]
    fn the_axis_top_is_a_round_number_at_or_above_the_largest_value() {
        assert_eq!(axis_max([0.2, 3.7, 1.0]), 4.0);
        assert_eq!(axis_max([120.0]), 150.0);
        assert_eq!(axis_max([1000.0]), 1000.0);
        assert!((axis_max([0.52]) - 0.6).abs() < 1e-12);
        assert_eq!(axis_max([9.0]), 10.0);
        assert_eq!(axis_max([]), 1.0);
        assert_eq!(axis_max([0.0, f64::NAN]), 1.0);
        assert_eq!(min_max([3.0, f64::INFINITY, 1.0, 2.0]), Some((1.0, 3.0)));
        assert_eq!(min_max([]), None);
    }

    #[test]
    fn uptime_reads_in_the_two_largest_units() {
        assert_eq!(format_uptime(42), "42s");
        assert_eq!(format_uptime(307), "5m 07s");
        assert_eq!(format_uptime(3 * 3600 + 12 * 60 + 59), "3h 12m");
        assert_eq!(format_uptime(2 * 86_400 + 4 * 3600 + 5), "2d 4h");
        assert_eq!(format_uptime(-5), "0s");
    }

    #[test]
    fn shares_read_as_percentages_without_trailing_zeros() {
        assert_eq!(format_percent(0.999), "99.9%");
        assert_eq!(format_percent(1.0), "100%");
        assert_eq!(format_percent(0.0), "0%");
        assert_eq!(format_percent(0.0123), "1.23%");
        assert_eq!(format_percent(0.00001), "<0.01%");
        assert_eq!(format_percent(-0.5), "-50%");
        assert_eq!(format_percent(f64::NAN), "—");
    }

    #[test]
    fn latencies_and_rates_have_sensible_precision() {
        assert_eq!(format_ms(Some(0.4219)), "0.42 ms");
        assert_eq!(format_ms(Some(3.54)), "3.5 ms");
        assert_eq!(format_ms(Some(120.4)), "120 ms");
        assert_eq!(format_ms(Some(1250.0)), "1.25 s");
        assert_eq!(format_ms(None), "—");
        assert_eq!(format_ms(Some(0.0)), "0 ms");
        assert_eq!(format_rate(0.0), "0/s");
        assert_eq!(format_rate(0.25), "0.25/s");
        assert_eq!(format_rate(12.46), "12.5/s");
        assert_eq!(format_rate(340.2), "340/s");
    }

    #[test]
    fn funnel_bars_are_proportional_to_the_largest_stage() {
        assert_eq!(bar_percent(5, 10), 50.0);
        assert_eq!(bar_percent(10, 10), 100.0);
        assert_eq!(bar_percent(0, 0), 0.0);
        assert_eq!(bar_percent(-1, 10), 0.0);
        assert_eq!(budget_class(0.9), "ok");
        assert_eq!(budget_class(0.2), "warning");
        assert_eq!(budget_class(-0.1), "danger");
    }

    #[test]
    fn times_file_names_and_tags() {
        let at =
            DateTime::parse_from_rfc3339("2026-01-05T14:03:07.25Z").map(|d| d.to_utc()).unwrap_or_default();
        assert_eq!(clock_time(&at), "14:03:07");
        assert_eq!(log_time(&at), "14:03:07.250");
        assert_eq!(export_name(&at), "monitoring-20260105T140307Z.json");
        assert_eq!(breaker_class("open"), "tag tag-danger");
        assert_eq!(breaker_class("half_open"), "tag tag-warning");
        assert_eq!(breaker_class("closed"), "tag tag-ok");
        assert_eq!(breaker_label("half_open"), "Half-open");
        for l in LEVELS {
            assert_eq!(parse_level(level_name(l)), Some(l));
        }
        assert_eq!(parse_level("loud"), None);
    }

    #[test]
    fn the_window_comes_from_the_query_and_filters_leave_blanks_out() {
        assert_eq!(window_of("?window=1h"), MonitorWindow::OneHour);
        assert_eq!(window_of("window=1m&x=2"), MonitorWindow::OneMinute);
        assert_eq!(window_of("?window=2d"), MonitorWindow::FifteenMinutes);
        assert_eq!(window_of(""), MonitorWindow::FifteenMinutes);
        let q = LogFilter { level: Some(LogLevel::Warn), route: "  ".into(), request_id: " abc ".into() }
            .to_api();
        assert_eq!(
            (q.level, q.route, q.request_id, q.limit),
            (Some(LogLevel::Warn), None, Some("abc".into()), Some(LOG_LIMIT))
        );
    }
}
