//! The operations packaging in docker/: the server's `/metrics` passes `promtool check
//! metrics`; the Prometheus config, its alerting rules and their unit tests pass promtool;
//! every metric the alerts and the Grafana dashboard query is one the server exports; every
//! alert has its annotations and a runbook section in the README; the dashboard is
//! well-formed. Needs promtool: `make deps` installs it (`PROMTOOL` names another binary).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use retail_tests::{TestApp, repo_root, spawn_app};
use serde_json::{Value, json};

/// The promtool binary: `PROMTOOL`, else `promtool` on `PATH`; fails (never skips) without it.
fn promtool() -> PathBuf {
    if let Some(p) = std::env::var_os("PROMTOOL").filter(|p| !p.is_empty()) {
        return p.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join("promtool")).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "promtool not found on PATH: run `make deps` (its deps-ops step installs Debian's \
             `prometheus` package, which ships promtool), or set PROMTOOL to the binary"
        )
    })
}

/// Runs promtool with `args` in `dir`, feeding `stdin`; the output, whatever the exit status.
fn run_promtool(args: &[&str], dir: &Path, stdin: Option<&str>) -> Output {
    let bin = promtool();
    let mut child = Command::new(&bin)
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run `make deps`)", bin.display()));
    if let Some(text) = stdin {
        // dropped at the end of the statement: promtool sees the end of its input
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Asserts that promtool `args` (in `dir`) succeeded, showing everything it said otherwise.
fn assert_promtool_ok(args: &[&str], dir: &Path, stdin: Option<&str>) -> String {
    let out = run_promtool(args, dir, stdin);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "`promtool {}` in {} failed ({}):\n{said}",
        args.join(" "),
        dir.display(),
        out.status
    );
    said
}

fn docker_dir() -> PathBuf {
    repo_root().join("docker")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Traffic that touches most metric families: pages, a 404, a correct and a failed login, a
/// product, a paid and delivered order, a return request and a reconciliation. Then the
/// `/metrics` text.
async fn scrape_after_traffic(app: &TestApp) -> String {
    app.seed().await;
    for path in [
        "/health",
        "/ready",
        "/api/hello",
        "/api/categories",
        "/api/products",
        "/api/products?per_page=5",
        "/api/products/1",
        "/api/nowhere",
    ] {
        app.get(path, None).send().await.unwrap();
    }
    let customer = app.token_for("customer").await;
    let r = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "customer@retail.test", "password": "wrong password"}),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failed login");
    let product = app.product("OBS-1", 1_500, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(product, 2)], 0, "observability-order").await;
    app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    retail_server::startup::reconcile_now(&app.state).await.unwrap();
    let r = app.get("/metrics", None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// Metric families of an exposition and their types, from its `# TYPE` lines.
fn families(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

/// The series names the families provide: `x_bucket`, `x_sum` and `x_count` for a histogram
/// `x` (`x_sum`, `x_count` and `x` for a summary), the name itself otherwise.
fn series_names(families: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (name, kind) in families {
        match kind.as_str() {
            "histogram" => {
                names.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")));
            }
            "summary" => {
                names.extend(["_sum", "_count"].map(|s| format!("{name}{s}")));
                names.insert(name.clone());
            }
            _ => {
                names.insert(name.clone());
            }
        }
    }
    names
}

/// Every `retail_[a-z0-9_]+` identifier in `expr` (not part of a longer identifier).
fn retail_names(expr: &str) -> BTreeSet<String> {
    let bytes = expr.as_bytes();
    let mut found = BTreeSet::new();
    let mut i = 0;
    while let Some(at) = expr[i..].find("retail_") {
        let start = i + at;
        let preceded =
            start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[start - 1]));
        let mut end = start + "retail_".len();
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase() || bytes[end].is_ascii_digit() || bytes[end] == b'_')
        {
            end += 1;
        }
        if !preceded && end > start + "retail_".len() {
            found.insert(expr[start..end].to_owned());
        }
        i = end;
    }
    found
}

/// One alerting rule of alerts.yml, read line by line (the file keeps to plain `key: value`
/// lines and `|` block scalars for long expressions).
#[derive(Debug, Default)]
struct Alert {
    name: String,
    expr: String,
    annotations: BTreeMap<String, String>,
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2 && (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\'')) {
        v[1..v.len() - 1].replace("\\\"", "\"")
    } else {
        v.to_owned()
    }
}

fn alerts(yaml: &str) -> Vec<Alert> {
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut in_annotations = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        i += 1;
        if let Some(name) = t.strip_prefix("- alert:") {
            alerts.push(Alert { name: unquote(name), ..Alert::default() });
            in_annotations = None;
            continue;
        }
        if t.starts_with("- record:") {
            in_annotations = None;
            continue;
        }
        let Some(alert) = alerts.last_mut() else { continue };
        if let Some(level) = in_annotations {
            if !t.is_empty() && indent(line) <= level {
                in_annotations = None;
            } else if let Some((k, v)) = t.split_once(':') {
                alert.annotations.insert(k.trim().to_owned(), unquote(v));
                continue;
            }
        }
        if t == "annotations:" {
            in_annotations = Some(indent(line));
        } else if let Some(v) = t.strip_prefix("expr:") {
            let v = v.trim();
            if v.starts_with('|') || v.starts_with('>') {
                let level = indent(line);
                let mut block = Vec::new();
                while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > level) {
                    block.push(lines[i].trim());
                    i += 1;
                }
                alert.expr = block.join("\n").trim().to_owned();
            } else {
                alert.expr = unquote(v);
            }
        }
    }
    alerts
}

fn alert_rules() -> Vec<Alert> {
    let yaml = read(&docker_dir().join("alerts.yml"));
    let alerts = alerts(&yaml);
    let declared = yaml.lines().filter(|l| l.trim_start().starts_with("- alert:")).count();
    assert!(declared > 0, "no alerts in docker/alerts.yml");
    assert_eq!(alerts.len(), declared);
    for a in &alerts {
        assert!(!a.expr.is_empty(), "alert {} has no expr (or one this reader cannot find)", a.name);
    }
    alerts
}

fn dashboard() -> Value {
    let path = docker_dir().join("grafana/dashboards/retail.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The dashboard's panels, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// Every query expression of the dashboard (panel targets and query variables).
fn dashboard_exprs(dashboard: &Value) -> Vec<String> {
    let mut exprs: Vec<String> = panels(dashboard)
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    for v in dashboard["templating"]["list"].as_array().into_iter().flatten() {
        match &v["query"] {
            Value::String(q) => exprs.push(q.clone()),
            q => exprs.extend(q["query"].as_str().map(str::to_owned)),
        }
    }
    exprs
}

/// GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_metrics_exposition_passes_promtool_after_traffic() {
    let app = spawn_app().await;
    let text = scrape_after_traffic(&app).await;
    assert!(text.contains("retail_http_requests_total{"), "no HTTP metrics in:\n{text}");
    assert_promtool_ok(&["check", "metrics"], &docker_dir(), Some(&text));
}

#[tokio::test]
async fn the_prometheus_config_and_alerting_rules_pass_promtool_and_their_unit_tests() {
    let dir = docker_dir();
    let said = assert_promtool_ok(&["check", "rules", "alerts.yml"], &dir, None);
    assert!(said.contains(&format!("{} rules found", alert_rules().len())), "{said}");
    // the config names alerts.yml relatively, so this also checks the rules it loads
    let said = assert_promtool_ok(&["check", "config", "prometheus.yml"], &dir, None);
    assert!(said.contains("1 rule files found"), "prometheus.yml must load alerts.yml:\n{said}");
    assert!(
        read(&dir.join("compose.yaml")).contains("./alerts.yml:/etc/prometheus/alerts.yml:ro"),
        "compose.yaml must mount alerts.yml beside prometheus.yml"
    );
    // when each alert fires, on made-up series
    assert_promtool_ok(&["test", "rules", "alerts_test.yml"], &dir, None);
    let tests = read(&dir.join("alerts_test.yml"));
    let untested: Vec<_> = alert_rules()
        .into_iter()
        .map(|a| a.name)
        .filter(|n| !tests.contains(&format!("alertname: {n}\n")))
        .collect();
    assert!(untested.is_empty(), "alerts without a case in docker/alerts_test.yml: {untested:?}");
}

#[tokio::test]
async fn every_alert_is_annotated_and_has_its_runbook_section_in_the_readme() {
    let readme = read(&repo_root().join("README.md"));
    let anchors: BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| anchor(h.trim_start_matches('#')))
        .collect();
    let mut problems = Vec::new();
    for a in alert_rules() {
        for key in ["summary", "description", "runbook"] {
            if a.annotations.get(key).is_none_or(|v| v.trim().is_empty()) {
                problems.push(format!("{}: no `{key}` annotation", a.name));
            }
        }
        let Some(runbook) = a.annotations.get("runbook") else { continue };
        match runbook.split_once('#') {
            Some(("README.md", section)) if anchors.contains(section) => {}
            _ => {
                problems.push(format!("{}: runbook {runbook:?} is not README.md#<a README heading>", a.name))
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn every_metric_the_alerts_and_the_dashboard_query_is_exported() {
    let app = spawn_app().await;
    let text = scrape_after_traffic(&app).await;
    let exported = series_names(&families(&text));
    assert!(exported.contains("retail_http_requests_total"), "no families in:\n{text}");

    let mut used: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let alerts = alert_rules();
    let dash = dashboard();
    let exprs = alerts
        .iter()
        .map(|a| (a.expr.clone(), "docker/alerts.yml"))
        .chain(dashboard_exprs(&dash).into_iter().map(|e| (e, "docker/grafana/dashboards/retail.json")));
    for (expr, file) in exprs {
        for name in retail_names(&expr) {
            used.entry(name).or_default().insert(file);
        }
    }
    assert!(used.len() > 10, "suspiciously few metric names found: {used:?}");
    let missing: Vec<String> = used
        .iter()
        .filter(|(name, _)| !exported.contains(*name))
        .map(|(name, files)| format!("{name} (in {})", files.iter().copied().collect::<Vec<_>>().join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} metric name(s) queried but not exported by the server (a histogram `x` is queried as \
         x_bucket/x_sum/x_count):\n  {}\nexported series names: {exported:?}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[tokio::test]
async fn the_grafana_dashboard_is_well_formed_and_its_queries_parse() {
    let provisioning = read(&docker_dir().join("grafana/provisioning/datasources/prometheus.yml"));
    let uid = provisioning
        .lines()
        .find_map(|l| l.trim().strip_prefix("uid:"))
        .map(unquote)
        .expect("the provisioned datasource has a fixed uid");
    let dash = dashboard();
    assert!(dash["uid"].as_str().is_some_and(|u| !u.is_empty()), "the dashboard needs a uid");
    assert!(dash["title"].as_str().is_some_and(|t| !t.is_empty()));
    let all = panels(&dash);
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    let mut queried = 0;
    for p in &all {
        let title = p["title"].as_str().unwrap_or("<untitled>");
        if !p["id"].as_i64().is_some_and(|id| ids.insert(id)) {
            problems.push(format!("{title}: missing or repeated id"));
        }
        if p["gridPos"]["w"].as_i64().is_none() || p["gridPos"]["h"].as_i64().is_none() {
            problems.push(format!("{title}: no gridPos"));
        }
        if p["type"] == "row" {
            continue;
        }
        queried += 1;
        let ds = &p["datasource"];
        if ds["type"] != "prometheus" || ds["uid"] != uid.as_str() {
            problems.push(format!("{title}: datasource {ds} is not the provisioned Prometheus (uid {uid})"));
        }
        let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
        if targets.is_empty() {
            problems.push(format!("{title}: no targets"));
        }
        for t in targets {
            if t["expr"].as_str().is_none_or(|e| e.trim().is_empty()) {
                problems.push(format!("{title}: target {} has no expr", t["refId"]));
            }
            if !t["datasource"].is_null() && t["datasource"] != *ds {
                problems.push(format!("{title}: target {} names another datasource", t["refId"]));
            }
        }
    }
    assert!(queried >= 10, "only {queried} panels with queries");
    assert!(problems.is_empty(), "{problems:#?}");

    // Every expression is valid PromQL: promtool parses them as recording rules.
    let exprs = dashboard_exprs(&dash);
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        // a JSON string is a YAML double-quoted scalar
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {}\n",
            Value::from(e.as_str())
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dashboard_rules.yml"), &rules).unwrap();
    let said = assert_promtool_ok(&["check", "rules", "dashboard_rules.yml"], dir.path(), None);
    assert!(said.contains(&format!("{} rules found", exprs.len())), "{said}");
}

#[test]
fn the_helpers_read_what_they_should() {
    let names = retail_names(
        r#"histogram_quantile(0.95, sum by (le) (rate(retail_x_seconds_bucket[5m]))) / retail_y and up{job="retail"} + dashboard:retail_z"#,
    );
    assert_eq!(names, BTreeSet::from(["retail_x_seconds_bucket".to_owned(), "retail_y".to_owned()]));
    let fams =
        families("# HELP a_seconds x\n# TYPE a_seconds histogram\n# TYPE b_total counter\nb_total 1\n");
    let series = series_names(&fams);
    assert!(
        series.contains("a_seconds_bucket")
            && series.contains("a_seconds_count")
            && series.contains("b_total")
    );
    assert!(!series.contains("a_seconds"), "a histogram's own name is no series");
    let parsed = alerts(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          x\n            > 1\n        for: 1m\n        annotations:\n          summary: \"s \\\"q\\\"\"\n          runbook: 'README.md#a'\n      - alert: B\n        expr: y == 0\n",
    );
    assert_eq!(parsed.len(), 2);
    assert_eq!((parsed[0].expr.as_str(), parsed[1].expr.as_str()), ("x\n> 1", "y == 0"));
    assert_eq!(parsed[0].annotations["summary"], "s \"q\"");
    assert_eq!(parsed[0].annotations["runbook"], "README.md#a");
    assert!(parsed[1].annotations.is_empty());
    assert_eq!(anchor(" Alert: PaymentBreakerOpen"), "alert-paymentbreakeropen");
    assert_eq!(anchor("Rotating the JWT secret"), "rotating-the-jwt-secret");
}
