//! Portable diesel schema: the same tables on SQLite and PostgreSQL.
//! Only types that behave alike on both (see STACK.md): integers, floats, text,
//! booleans, dates and naive UTC timestamps.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    provinces (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        name_folded -> Text,
    }
}

diesel::table! {
    wards (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        province_code -> Text,
        name_folded -> Text,
        centre_lat -> Nullable<Double>,
        centre_lon -> Nullable<Double>,
    }
}

diesel::table! {
    agencies (id) {
        id -> BigInt,
        name -> Text,
        name_folded -> Text,
        level -> Text,
        ward_code -> Text,
        province_code -> Text,
        address -> Text,
        lat -> Double,
        lon -> Double,
        opening_hours -> Nullable<Text>,
        created_at -> Timestamp,
        opens_at -> Nullable<Text>,
        closes_at -> Nullable<Text>,
        lunch_start -> Nullable<Text>,
        lunch_end -> Nullable<Text>,
    }
}

diesel::table! {
    post_offices (id) {
        id -> BigInt,
        name -> Text,
        name_folded -> Text,
        ward_code -> Text,
        province_code -> Text,
        address -> Text,
        lat -> Double,
        lon -> Double,
        created_at -> Timestamp,
    }
}

diesel::table! {
    procedures (code) {
        code -> Text,
        name -> Text,
        name_folded -> Text,
        agency_level -> Text,
        agency_fee_vnd -> BigInt,
        processing_days -> Integer,
        required_documents -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    holidays (day) {
        day -> Date,
        name -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        full_name -> Text,
        role -> Text,
        post_office_id -> Nullable<BigInt>,
        agency_id -> Nullable<BigInt>,
        phone -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        family -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    couriers (id) {
        id -> BigInt,
        user_id -> BigInt,
        post_office_id -> BigInt,
        capacity -> Integer,
        shift_start -> Text,
        shift_end -> Text,
        vehicle -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        days_off -> Text,
    }
}

diesel::table! {
    citizens (id) {
        id -> BigInt,
        phone -> Text,
        full_name -> Text,
        id_number -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    citizen_places (id) {
        id -> BigInt,
        citizen_id -> BigInt,
        ward_code -> Text,
        street -> Text,
        street_folded -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        from_gps -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dossiers (id) {
        id -> BigInt,
        tracking_code -> Text,
        citizen_id -> BigInt,
        citizen_name -> Text,
        phone -> Text,
        id_number -> Nullable<Text>,
        ward_code -> Text,
        province_code -> Text,
        street -> Text,
        lat -> Double,
        lon -> Double,
        location_approximate -> Bool,
        procedure_code -> Text,
        agency_id -> BigInt,
        service -> Text,
        return_method -> Text,
        status -> Text,
        version -> Integer,
        pickup_from -> Nullable<Timestamp>,
        pickup_to -> Nullable<Timestamp>,
        postal_fee_vnd -> BigInt,
        agency_fee_vnd -> BigInt,
        total_vnd -> BigInt,
        note -> Nullable<Text>,
        agency_dossier_code -> Nullable<Text>,
        appointment_date -> Nullable<Date>,
        outcome -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tasks (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        kind -> Text,
        status -> Text,
        courier_id -> Nullable<BigInt>,
        seq -> Nullable<Integer>,
        window_from -> Nullable<Timestamp>,
        window_to -> Nullable<Timestamp>,
        lat -> Double,
        lon -> Double,
        eta -> Nullable<Timestamp>,
        attempts -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        zone_id -> Nullable<BigInt>,
        outside_zone -> Bool,
    }
}

diesel::table! {
    zones (id) {
        id -> BigInt,
        name -> Text,
        post_office_id -> BigInt,
        area -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    courier_zones (courier_id, zone_id) {
        courier_id -> BigInt,
        zone_id -> BigInt,
    }
}

diesel::table! {
    courier_positions (courier_id) {
        courier_id -> BigInt,
        lat -> Double,
        lon -> Double,
        at -> Timestamp,
        accuracy_m -> Nullable<Double>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    position_trail (id) {
        id -> BigInt,
        courier_id -> BigInt,
        lat -> Double,
        lon -> Double,
        at -> Timestamp,
        accuracy_m -> Nullable<Double>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        task_id -> Nullable<BigInt>,
        kind -> Text,
        status_after -> Text,
        actor_user_id -> Nullable<BigInt>,
        actor_role -> Text,
        at -> Timestamp,
        recorded_at -> Timestamp,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        note -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> BigInt,
        idem_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(wards -> provinces (province_code));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(tasks -> dossiers (dossier_id));
diesel::joinable!(events -> dossiers (dossier_id));
diesel::joinable!(dossiers -> agencies (agency_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    provinces,
    wards,
    agencies,
    post_offices,
    procedures,
    holidays,
    users,
    refresh_tokens,
    counters,
    couriers,
    citizens,
    citizen_places,
    dossiers,
    tasks,
    events,
    idempotency_keys,
    zones,
    courier_zones,
    courier_positions,
    position_trail,
);

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        secret -> Text,
        events -> Text,
        active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        delivery_id -> Text,
        kind -> Text,
        target -> Text,
        webhook_id -> Nullable<BigInt>,
        event_type -> Text,
        dossier_id -> Nullable<BigInt>,
        body -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        status -> Text,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        queued_at -> Timestamp,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sms_opt_outs (dossier_id) {
        dossier_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    one_stop_events (event_id) {
        event_id -> Text,
        signature -> Text,
        dossier_id -> Nullable<BigInt>,
        kind -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    complaints (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        content -> Text,
        scope -> Text,
        status -> Text,
        received_at -> Timestamp,
        due_at -> Timestamp,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        answered_by -> Nullable<BigInt>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dispatch_leases (post_office_id, day) {
        post_office_id -> BigInt,
        day -> Date,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    task_otps (id) {
        id -> BigInt,
        task_id -> BigInt,
        code_hash -> Text,
        expires_at -> Timestamp,
        tries -> Integer,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cash_handovers (id) {
        id -> BigInt,
        courier_id -> BigInt,
        day -> Date,
        amount_vnd -> BigInt,
        collected_vnd -> BigInt,
        cashier_name -> Text,
        note -> Nullable<Text>,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}
