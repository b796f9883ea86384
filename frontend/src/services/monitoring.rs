//! `/api/admin/monitoring`: the operations dashboard's snapshot and the recent log events
//! (admin).

use retail_api_types::{LogEvents, LogQuery, MonitorWindow, MonitoringQuery, MonitoringSnapshot};

use super::{Api, ApiError, with_query};

/// Everything the dashboard shows, with traffic figures over `window`.
pub async fn snapshot(api: &Api, window: MonitorWindow) -> Result<MonitoringSnapshot, ApiError> {
    let query = MonitoringQuery { window: Some(window) };
    api.get(&with_query("/api/admin/monitoring", &query)?).await
}

/// The recent log events that match `query`, newest first.
pub async fn logs(api: &Api, query: &LogQuery) -> Result<LogEvents, ApiError> {
    api.get(&with_query("/api/admin/monitoring/logs", query)?).await
}
