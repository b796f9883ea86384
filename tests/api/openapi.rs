use retail_tests::{repo_root, spawn_app};
use serde_json::Value;

/// The committed spec must be exactly what the server serves: regenerate it with
/// `make openapi` after changing routes or types.
#[tokio::test]
async fn committed_spec_matches_the_served_spec() {
    let app = spawn_app().await;
    let served: Value = app.get_json("/api/openapi.json", None).await;
    let path = repo_root().join("openapi/openapi.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(served == committed, "openapi/openapi.json is stale: run `make openapi` and commit the result");
}

#[tokio::test]
async fn every_operation_documents_errors_and_protected_ones_their_security() {
    let app = spawn_app().await;
    let spec: Value = app.get_json("/api/openapi.json", None).await;
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let public = ["/health", "/ready", "/metrics", "/api/hello", "/api/categories", "/api/suppliers"];
            if !public.contains(&path.as_str()) {
                assert!(
                    responses.keys().any(|k| k.starts_with('4')),
                    "{method} {path} documents no 4xx response"
                );
            }
            if path.starts_with("/api/admin") || path.ends_with("/me") || path.ends_with("/logout") {
                assert!(op.get("security").is_some(), "{method} {path} has no security requirement");
            }
            assert!(op.get("summary").is_some(), "{method} {path} has no summary");
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}
