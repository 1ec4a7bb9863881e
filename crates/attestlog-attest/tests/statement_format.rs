//! How `Statement::parse` recognises a format, against a model built on
//! `serde_json::Value`: strict JSON whose top level is an object; a `_type`
//! member (whatever its value) makes it in-toto, otherwise a `critical`
//! member makes it a container signature, otherwise it is neither. The
//! parser reads the bytes without building a `Value`, so this pins that
//! both agree on generated documents, including `null` members, arrays at
//! the top level and repeated member names.

use attestlog_attest::{AttestError, Statement};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Which way the model says a document goes.
#[derive(Debug, PartialEq)]
enum Route {
    NotJson,
    InToto,
    SimpleSigning,
    Neither,
}

fn model(bytes: &[u8]) -> Route {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) if m.contains_key("_type") => Route::InToto,
        Ok(Value::Object(m)) if m.contains_key("critical") => Route::SimpleSigning,
        Ok(Value::Object(_)) => Route::Neither,
        _ => Route::NotJson,
    }
}

fn route(result: &Result<Statement, AttestError>) -> Route {
    match result {
        Ok(Statement::InToto(_)) => Route::InToto,
        Ok(Statement::SimpleSigning(_)) => Route::SimpleSigning,
        Err(AttestError::StatementNotJson { .. }) => Route::NotJson,
        Err(AttestError::InvalidSimpleSigning { .. }) => Route::SimpleSigning,
        Err(AttestError::InvalidStatement { reason }) if reason.contains("neither") => {
            Route::Neither
        }
        // Every other rejection comes from the in-toto schema checks.
        Err(_) => Route::InToto,
    }
}

fn leaf_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::String),
        Just(Value::String("https://in-toto.io/Statement/v1".into())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf_value().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(member_name(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("_type".to_owned()),
        Just("critical".to_owned()),
        Just("subject".to_owned()),
        Just("optional".to_owned()),
        "[a-z_]{1,5}",
    ]
}

/// A top-level object, serialized; sometimes with its first member
/// repeated at the end (strict JSON refuses that whatever the format).
fn document() -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        prop::collection::vec((member_name(), value()), 0..5),
        any::<bool>(),
    )
        .prop_map(|(members, repeat)| {
            let mut text = String::from("{");
            let mut names = Vec::new();
            for (name, v) in &members {
                if names.contains(name) {
                    continue;
                }
                if !names.is_empty() {
                    text.push(',');
                }
                text.push_str(&format!("{}:{}", Value::String(name.clone()), v));
                names.push(name.clone());
            }
            let repeated = repeat && !names.is_empty();
            if repeated {
                text.push_str(&format!(",{}:null", Value::String(names[0].clone())));
            }
            text.push('}');
            (text.into_bytes(), repeated)
        })
}

proptest! {
    #[test]
    fn routes_like_the_value_model((bytes, repeated) in document()) {
        let got = route(&Statement::parse(&bytes));
        if repeated {
            prop_assert_eq!(got, Route::NotJson);
        } else {
            prop_assert_eq!(got, model(&bytes), "{}", String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn anything_but_an_object_is_not_a_statement(v in value()) {
        prop_assume!(!v.is_object());
        let bytes = v.to_string().into_bytes();
        prop_assert_eq!(route(&Statement::parse(&bytes)), Route::NotJson);
    }
}
