//! Property tests of the parsers that read what people and other systems type:
//! tracking codes, phone numbers, GeoJSON zones. Any input: no panic, and what is
//! accepted is stable when read again.

use buuta::domain::phone::Phone;
use buuta::domain::tracking_code::TrackingCode;
use buuta::domain::zones::parse_area;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Arbitrary JSON, a few levels deep, with GeoJSON-ish keys now and then.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|f| json!(f)),
        (-1000i64..1000).prop_map(|i| json!(i)),
        prop_oneof![
            Just("Polygon".to_owned()),
            Just("MultiPolygon".to_owned()),
            ".{0,12}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("type".to_owned()),
                        Just("coordinates".to_owned()),
                        "[a-z]{1,6}"
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tracking_codes_never_panic_and_round_trip(s in "\\\\PC{0,20}") {
        if let Ok(code) = TrackingCode::parse(&s) {
            let again = TrackingCode::parse(code.as_str()).expect("accepted code reads again");
            prop_assert_eq!(again.as_str(), code.as_str());
            prop_assert_eq!(code.as_str().len(), 13);
        }
    }

    #[test]
    fn issued_codes_parse_and_catch_a_wrong_check_digit(
        prefix in "[A-Z]{2}",
        serial in 0u64..100_000_000,
        delta in 1u8..10,
    ) {
        // (UPU S10 folds two remainders together, so not every typo in the serial is
        // caught; a wrong check digit always is.)
        let pos = 10;
        let code = TrackingCode::issue(&prefix, serial).expect("issues");
        let parsed = TrackingCode::parse(&code.as_str().to_lowercase()).expect("parses");
        prop_assert_eq!(parsed.serial(), serial);
        let mut bytes = code.as_str().as_bytes().to_vec();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let typo = String::from_utf8(bytes).unwrap();
        prop_assert!(TrackingCode::parse(&typo).is_err(), "{} accepted", typo);
    }

    #[test]
    fn phones_never_panic_and_normalise_once(s in "[0-9+ ().-]{0,16}|\\\\PC{0,16}") {
        if let Ok(p) = Phone::parse(&s) {
            let again = Phone::parse(p.as_str()).expect("normalised phone reads again");
            prop_assert_eq!(again.as_str(), p.as_str());
            prop_assert!(p.as_str().starts_with('0') && p.as_str().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn mobiles_read_the_same_in_every_form(rest in "[0-9]{8}") {
        let national = Phone::parse(&format!("09{rest}")).expect("mobile");
        let international = Phone::parse(&format!("+84 9{rest}")).expect("+84 mobile");
        prop_assert_eq!(national.as_str(), international.as_str());
    }

    #[test]
    fn zones_never_panic_on_any_json(v in any_json()) {
        let _ = parse_area(&v);
    }

    #[test]
    fn squares_in_vietnam_are_valid_zones(
        lat in 9.0f64..22.0,
        lon in 103.0f64..109.0,
        size in 0.001f64..0.5,
    ) {
        let ring = json!([[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]);
        let area = json!({"type": "Polygon", "coordinates": [ring]});
        prop_assert!(parse_area(&area).is_ok());
    }
}
