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

diesel::joinable!(wards -> provinces (province_code));
diesel::joinable!(refresh_tokens -> users (user_id));

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
);
