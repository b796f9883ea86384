// Hand-kept in step with migrations/; `tests::schema_matches_migrations` queries every
// column of every table on a freshly migrated database, so a drift fails a test.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        refresh_hash -> Text,
        created_at -> TimestamptzSqlite,
        expires_at -> TimestamptzSqlite,
        revoked_at -> Nullable<TimestamptzSqlite>,
    }
}

diesel::table! {
    products (id) {
        id -> BigInt,
        sku -> Text,
        name -> Text,
        description -> Text,
        price_cents -> BigInt,
        currency -> Text,
        stock -> BigInt,
        category -> Text,
        image_url -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
        returnable -> Bool,
        partner_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> BigInt,
        product_id -> BigInt,
        delta -> BigInt,
        stock_after -> BigInt,
        reason -> Text,
        actor_id -> Nullable<BigInt>,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        detail -> Text,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    catalog_version (id) {
        id -> BigInt,
        version -> BigInt,
        active_products -> BigInt,
    }
}

diesel::table! {
    retired_refresh_tokens (refresh_hash) {
        refresh_hash -> Text,
        session_id -> Text,
        retired_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    cart_lines (id) {
        id -> BigInt,
        user_id -> BigInt,
        product_id -> BigInt,
        quantity -> BigInt,
        price_seen_cents -> BigInt,
        added_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    orders (id) {
        id -> BigInt,
        user_id -> BigInt,
        state -> Text,
        currency -> Text,
        subtotal_cents -> BigInt,
        credit_cents -> BigInt,
        card_cents -> BigInt,
        total_cents -> BigInt,
        refunded_cents -> BigInt,
        idempotency_key -> Text,
        carrier -> Nullable<Text>,
        tracking -> Nullable<Text>,
        shipped_at -> Nullable<TimestamptzSqlite>,
        delivered_at -> Nullable<TimestamptzSqlite>,
        cancelled_at -> Nullable<TimestamptzSqlite>,
        cancel_reason -> Nullable<Text>,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    order_lines (id) {
        id -> BigInt,
        order_id -> BigInt,
        product_id -> BigInt,
        sku -> Text,
        name -> Text,
        unit_price_cents -> BigInt,
        quantity -> BigInt,
        line_total_cents -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> BigInt,
        user_id -> BigInt,
        order_id -> Nullable<BigInt>,
        provider -> Text,
        reference -> Nullable<Text>,
        amount_cents -> BigInt,
        currency -> Text,
        state -> Text,
        refunded_cents -> BigInt,
        idempotency_key -> Text,
        card_hint -> Text,
        error_code -> Nullable<Text>,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    store_credit_entries (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        delta_cents -> BigInt,
        balance_after -> BigInt,
        currency -> Text,
        reason -> Text,
        actor_id -> Nullable<BigInt>,
        order_id -> Nullable<BigInt>,
        idempotency_key -> Text,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    sales (id) {
        id -> BigInt,
        name -> Text,
        starts_at -> TimestamptzSqlite,
        ends_at -> TimestamptzSqlite,
        ended_early_at -> Nullable<TimestamptzSqlite>,
        per_customer_cap -> BigInt,
        settled_at -> Nullable<TimestamptzSqlite>,
        version -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    sale_items (sale_id, product_id) {
        sale_id -> BigInt,
        product_id -> BigInt,
        position -> BigInt,
        discount_kind -> Text,
        discount_value -> BigInt,
        allocated -> BigInt,
        sold -> BigInt,
        reserved -> BigInt,
    }
}

diesel::table! {
    sale_reservations (id) {
        id -> BigInt,
        sale_id -> BigInt,
        product_id -> BigInt,
        user_id -> BigInt,
        units -> BigInt,
        unit_price_cents -> BigInt,
        currency -> Text,
        state -> Text,
        expires_at -> TimestamptzSqlite,
        order_id -> Nullable<BigInt>,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    rmas (id) {
        id -> BigInt,
        user_id -> BigInt,
        order_id -> BigInt,
        stage -> Text,
        version -> BigInt,
        reason -> Text,
        description -> Nullable<Text>,
        problems -> Nullable<Text>,
        currency -> Text,
        gross_cents -> BigInt,
        carrier -> Nullable<Text>,
        tracking -> Nullable<Text>,
        condition -> Nullable<Text>,
        inspection_note -> Nullable<Text>,
        disposition -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        fee_cents -> Nullable<BigInt>,
        amount_cents -> Nullable<BigInt>,
        refund_card_cents -> Nullable<BigInt>,
        refund_credit_cents -> Nullable<BigInt>,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        replacement_order_id -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
        outcome_carrier -> Nullable<Text>,
        outcome_tracking -> Nullable<Text>,
        stage_entered_at -> TimestamptzSqlite,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    rma_lines (id) {
        id -> BigInt,
        rma_id -> BigInt,
        order_line_id -> BigInt,
        product_id -> BigInt,
        sku -> Text,
        name -> Text,
        unit_price_cents -> BigInt,
        quantity -> BigInt,
    }
}

diesel::table! {
    rma_events (id) {
        id -> BigInt,
        rma_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        actor_role -> Text,
        action -> Text,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        note -> Nullable<Text>,
        stage_secs -> BigInt,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    rma_photos (id) {
        id -> BigInt,
        rma_id -> BigInt,
        stored_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Nullable<BigInt>,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    rma_effects (id) {
        id -> BigInt,
        rma_id -> BigInt,
        idempotency_key -> Text,
        kind -> Text,
        amount_cents -> BigInt,
        product_id -> Nullable<BigInt>,
        quantity -> BigInt,
        reference -> Nullable<Text>,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        event -> Text,
        user_id -> Nullable<BigInt>,
        recipient -> Text,
        content -> Text,
        message_id -> Text,
        dedupe_key -> Text,
        state -> Text,
        attempts -> BigInt,
        next_attempt_at -> TimestamptzSqlite,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<TimestamptzSqlite>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<TimestamptzSqlite>,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        event -> Text,
        title -> Text,
        body -> Text,
        link -> Text,
        dedupe_key -> Text,
        read_at -> Nullable<TimestamptzSqlite>,
        created_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    notification_prefs (user_id) {
        user_id -> BigInt,
        non_essential -> Bool,
        sla_breach -> Bool,
        refund_failure -> Bool,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    worker_heartbeats (worker) {
        worker -> Text,
        beat_at -> TimestamptzSqlite,
        passes -> BigInt,
        last_report -> Text,
    }
}

diesel::table! {
    partners (id) {
        id -> BigInt,
        name -> Text,
        contact_email -> Text,
        status -> Text,
        mode -> Text,
        price_column -> Text,
        currency -> Text,
        rate_per_minute -> BigInt,
        max_body_bytes -> BigInt,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    partner_keys (id) {
        id -> BigInt,
        partner_id -> BigInt,
        prefix -> Text,
        key_hash -> Text,
        created_at -> TimestamptzSqlite,
        retires_at -> Nullable<TimestamptzSqlite>,
        revoked_at -> Nullable<TimestamptzSqlite>,
    }
}

diesel::table! {
    feed_jobs (id) {
        id -> BigInt,
        partner_id -> BigInt,
        source -> Text,
        schedule_id -> Nullable<BigInt>,
        format -> Text,
        mode -> Text,
        state -> Text,
        content_hash -> Text,
        bytes -> BigInt,
        body -> Nullable<Binary>,
        rows_total -> BigInt,
        rows_created -> BigInt,
        rows_updated -> BigInt,
        rows_unchanged -> BigInt,
        rows_rejected -> BigInt,
        applied -> Bool,
        attempts -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<TimestamptzSqlite>,
        next_attempt_at -> TimestamptzSqlite,
        last_error -> Nullable<Text>,
        actor_id -> Nullable<BigInt>,
        created_at -> TimestamptzSqlite,
        started_at -> Nullable<TimestamptzSqlite>,
        finished_at -> Nullable<TimestamptzSqlite>,
    }
}

diesel::table! {
    feed_row_errors (id) {
        id -> BigInt,
        job_id -> BigInt,
        row_num -> BigInt,
        field -> Text,
        reason -> Text,
    }
}

diesel::table! {
    feed_schedules (id) {
        id -> BigInt,
        partner_id -> BigInt,
        url -> Text,
        interval_secs -> BigInt,
        enabled -> Bool,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        next_run_at -> TimestamptzSqlite,
        last_run_at -> Nullable<TimestamptzSqlite>,
        last_outcome -> Nullable<Text>,
        lease_until -> Nullable<TimestamptzSqlite>,
        created_at -> TimestamptzSqlite,
        updated_at -> TimestamptzSqlite,
    }
}

diesel::table! {
    feed_schedule_runs (id) {
        id -> BigInt,
        schedule_id -> BigInt,
        outcome -> Text,
        http_status -> Nullable<BigInt>,
        job_id -> Nullable<BigInt>,
        created_at -> TimestamptzSqlite,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(retired_refresh_tokens -> sessions (session_id));
diesel::joinable!(stock_movements -> products (product_id));
diesel::joinable!(cart_lines -> products (product_id));
diesel::joinable!(cart_lines -> users (user_id));
diesel::joinable!(orders -> users (user_id));
diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(sale_items -> sales (sale_id));
diesel::joinable!(sale_items -> products (product_id));
diesel::joinable!(sale_reservations -> sales (sale_id));
diesel::joinable!(sale_reservations -> products (product_id));
diesel::joinable!(rmas -> users (user_id));
diesel::joinable!(rma_lines -> rmas (rma_id));
diesel::joinable!(rma_events -> rmas (rma_id));
diesel::joinable!(rma_photos -> rmas (rma_id));
diesel::joinable!(rma_effects -> rmas (rma_id));
diesel::joinable!(partner_keys -> partners (partner_id));
diesel::joinable!(products -> partners (partner_id));
diesel::joinable!(feed_jobs -> partners (partner_id));
diesel::joinable!(feed_row_errors -> feed_jobs (job_id));
diesel::joinable!(feed_schedules -> partners (partner_id));
diesel::joinable!(feed_schedule_runs -> feed_schedules (schedule_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    retired_refresh_tokens,
    products,
    stock_movements,
    audit_log,
    catalog_version,
    idempotency_keys,
    cart_lines,
    orders,
    order_lines,
    payments,
    store_credit_entries,
    sales,
    sale_items,
    sale_reservations,
    rmas,
    rma_lines,
    rma_events,
    rma_photos,
    rma_effects,
    outbox,
    notifications,
    notification_prefs,
    worker_heartbeats,
    partners,
    partner_keys,
    feed_jobs,
    feed_row_errors,
    feed_schedules,
    feed_schedule_runs
);
