use retail_api_types::{
    AuditList, Product, ProductList, Role, StockAdjustmentResponse, StockMovementList, User, UserList,
};
use retail_tests::{TestApp, expect_field, expect_problem, spawn_app};
use serde_json::{Value, json};

fn kettle() -> Value {
    json!({
        "sku": "new-1", "name": "Gooseneck kettle", "description": "for pour-over",
        "price_cents": 4999, "currency": "eur", "category": "Kitchen", "initial_stock": 7
    })
}

async fn total_products(app: &TestApp, admin: &str) -> i64 {
    let r = app.get("/api/products?include_inactive=true", Some(admin)).send().await.unwrap();
    r.json::<ProductList>().await.unwrap().pagination.total
}

#[tokio::test]
async fn an_admin_creates_a_product_whose_stock_starts_the_ledger() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let r = app.post_json("/api/admin/products", &kettle(), Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let p: Product = r.json().await.unwrap();
    assert_eq!(loc, format!("/api/products/{}", p.id));
    assert_eq!((p.sku.as_str(), p.category.as_str(), p.stock), ("NEW-1", "kitchen", 7));
    let ledger: StockMovementList =
        app.get_json(&format!("/api/admin/products/{}/stock-movements", p.id), Some(&admin)).await;
    assert_eq!(ledger.items.len(), 1);
    assert_eq!((ledger.items[0].delta, ledger.items[0].reason.as_str()), (7, "initial stock"));
    let audit: AuditList = app.get_json("/api/admin/audit?entity_type=product", Some(&admin)).await;
    assert_eq!(audit.items[0].action, "product.created");
    assert_eq!(audit.items[0].entity_id, p.id.to_string());
}

#[tokio::test]
async fn only_admins_create_products() {
    let app = spawn_app().await;
    app.seed().await;
    let r = app.post_json("/api/admin/products", &kettle(), None).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    for role in ["customer", "support", "warehouse", "finance"] {
        let t = app.token_for(role).await;
        let r = app.post_json("/api/admin/products", &kettle(), Some(&t)).send().await.unwrap();
        expect_problem(r, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn invalid_products_name_every_bad_field_and_write_nothing() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let before = total_products(&app, &admin).await;
    let mut body = kettle();
    body["price_cents"] = json!(-1);
    body["name"] = json!("n".repeat(201));
    body["initial_stock"] = json!(-3);
    let r = app.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
    let p = expect_field(r, 422, "price_cents").await;
    let fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"name") && fields.contains(&"initial_stock"), "{fields:?}");
    let mut body = kettle();
    body["price_cents"] = json!("12.99");
    let r = app.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
    expect_field(r, 422, "price_cents").await;
    assert_eq!(total_products(&app, &admin).await, before);
}

#[tokio::test]
async fn a_taken_sku_is_a_409() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let mut body = kettle();
    body["sku"] = json!("kit-001");
    let r = app.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
    expect_problem(r, 409, "sku_taken").await;
}

#[tokio::test]
async fn updates_need_the_current_version() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p: Product = app.get_json("/api/products/3", None).await;
    let patch = |v: i64| json!({"version": v, "price_cents": 1234});
    let r = app
        .send_json(reqwest::Method::PATCH, "/api/admin/products/3", &patch(p.version), Some(&admin))
        .send()
        .await
        .unwrap();
    let updated: Product = r.json().await.unwrap();
    assert_eq!((updated.price_cents, updated.version), (1234, p.version + 1));
    let r = app
        .send_json(reqwest::Method::PATCH, "/api/admin/products/3", &patch(p.version), Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "version_conflict").await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            "/api/admin/products/3",
            &json!({"version": updated.version}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    expect_field(r, 422, "body").await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            "/api/admin/products/3",
            &json!({"version": updated.version, "price_cents": -5}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    expect_field(r, 422, "price_cents").await;
    let r = app
        .send_json(reqwest::Method::PATCH, "/api/admin/products/999", &patch(1), Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    let support = app.token_for("support").await;
    let r = app
        .send_json(reqwest::Method::PATCH, "/api/admin/products/3", &patch(updated.version), Some(&support))
        .send()
        .await
        .unwrap();
    expect_problem(r, 403, "forbidden").await;
}

#[tokio::test]
async fn stock_moves_through_the_ledger_and_never_below_zero() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p: Product = app.get_json("/api/products/1", None).await;
    let r = app
        .post_json("/api/admin/products/1/stock", &json!({"delta": 5, "reason": "delivery 42"}), Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let moved: StockAdjustmentResponse = r.json().await.unwrap();
    assert_eq!(moved.product.stock, p.stock + 5);
    assert_eq!(moved.movement.stock_after, p.stock + 5);
    let r = app
        .post_json(
            "/api/admin/products/1/stock",
            &json!({"delta": -(p.stock + 6), "reason": "shrinkage"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "insufficient_stock").await;
    let now: Product = app.get_json("/api/products/1", None).await;
    assert_eq!(now.stock, p.stock + 5);
    let r = app
        .post_json("/api/admin/products/1/stock", &json!({"delta": 0, "reason": ""}), Some(&admin))
        .send()
        .await
        .unwrap();
    let prob = expect_field(r, 422, "delta").await;
    assert!(prob.errors.iter().any(|e| e.field == "reason"));
    let warehouse = app.token_for("warehouse").await;
    let r = app
        .post_json("/api/admin/products/1/stock", &json!({"delta": 1, "reason": "x"}), Some(&warehouse))
        .send()
        .await
        .unwrap();
    expect_problem(r, 403, "forbidden").await;
    let r = app
        .post_json("/api/admin/products/999/stock", &json!({"delta": 1, "reason": "x"}), Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn staff_read_the_stock_ledger_and_customers_do_not() {
    let app = spawn_app().await;
    app.seed().await;
    let support = app.token_for("support").await;
    let r = app.get("/api/admin/products/1/stock-movements", Some(&support)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let customer = app.token_for("customer").await;
    let r = app.get("/api/admin/products/1/stock-movements", Some(&customer)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
    let r = app.get("/api/admin/products/999/stock-movements", Some(&support)).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn admins_list_users_and_change_roles_with_immediate_effect() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let list: UserList = app.get_json("/api/admin/users?role=support", Some(&admin)).await;
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].role, Role::Support);
    let found: UserList = app.get_json("/api/admin/users?q=WARE", Some(&admin)).await;
    assert_eq!(found.items[0].email, "warehouse@retail.test");
    let r = app.get("/api/admin/users?role=overlord", Some(&admin)).send().await.unwrap();
    expect_field(r, 400, "role").await;

    let t = app.register("promote@example.com").await;
    let r = app.post_json("/api/admin/products", &kettle(), Some(&t.access_token)).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/admin/users/{}/role", t.user.id),
            &json!({"role": "admin"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    let u: User = r.json().await.unwrap();
    assert_eq!(u.role, Role::Admin);
    // the same token now carries the new role: roles are read per request
    let r = app.post_json("/api/admin/products", &kettle(), Some(&t.access_token)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let audit: AuditList = app.get_json("/api/admin/audit?entity_type=user", Some(&admin)).await;
    assert!(audit.items.iter().any(|e| e.action == "user.role_changed" && e.detail["to"] == "admin"));
}

#[tokio::test]
async fn role_changes_are_validated() {
    let app = spawn_app().await;
    app.seed().await;
    let me = app.login("admin@retail.test", "demo-Kestrel-2026").await;
    let path = format!("/api/admin/users/{}/role", me.user.id);
    let r = app
        .send_json(reqwest::Method::PUT, &path, &json!({"role": "customer"}), Some(&me.access_token))
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "self_demotion").await;
    let r = app
        .send_json(reqwest::Method::PUT, &path, &json!({"role": "god"}), Some(&me.access_token))
        .send()
        .await
        .unwrap();
    expect_field(r, 422, "role").await;
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/admin/users/9999/role",
            &json!({"role": "support"}),
            Some(&me.access_token),
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    let finance = app.token_for("finance").await;
    let r = app
        .send_json(reqwest::Method::PUT, &path, &json!({"role": "support"}), Some(&finance))
        .send()
        .await
        .unwrap();
    expect_problem(r, 403, "forbidden").await;
    let r = app.get("/api/admin/users", Some(&finance)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
    let r = app.get("/api/admin/audit", Some(&finance)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
}
