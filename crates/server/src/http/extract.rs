//! Request extractors that turn every bad input into a problem document naming the field.
//! actix's own `Json`/`Query` report serde errors without the field path.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, http::header};
use retail_api_types::FieldProblem;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest body accepted by [`Json`] unless the app configures a `BodyLimit`.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Body limit for [`Json`], as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body. Wrong content type: 415; too large: 413; not JSON: 400 `malformed_json`;
/// a missing field or a wrong type: 422 naming the field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_BODY_LIMIT, |l| l.0);
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let bytes = read_limited(&mut payload, limit).await?;
            parse_json(&bytes).map(Json)
        })
    }
}

async fn read_limited(payload: &mut Payload, limit: usize) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
            other => ApiError::BadRequest {
                code: "unreadable_body",
                detail: format!("could not read the request body: {other}"),
                errors: Vec::new(),
            },
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a JSON body, naming the offending field on a type or missing-field error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: serde_json::Error| ApiError::BadRequest {
        code: "malformed_json",
        detail: format!("request body is not valid JSON: {e}"),
        errors: Vec::new(),
    };
    let mut raw: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
    integral_floats_to_integers(&mut raw);
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                field_error(&path, strip_position(&inner.to_string()), "body")
            }
            _ => malformed(inner),
        }
    })
}

/// JSON has one number type: `5.0` is the integer 5 to JSON Schema and to most clients'
/// serialisers, so integer fields accept it. A float with a fraction stays a type error.
fn integral_floats_to_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && (-9.0e15..=9.0e15).contains(&f)
            {
                // exact: every integer of this size is representable as f64 and i64
                #[expect(clippy::cast_possible_truncation, reason = "range-checked integral value")]
                let i = f as i64;
                *v = Value::from(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// A query string. Wrong types or out-of-range numbers: 400 `invalid_query` naming the
/// parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string, naming the offending parameter.
pub fn parse_query<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(qs.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let mut err = field_error(&path, message, "query");
        if let ApiError::Validation(errors) = err {
            err = ApiError::BadRequest {
                code: "invalid_query",
                detail: "invalid query parameter".into(),
                errors,
            };
        }
        err
    })
}

fn field_error(path: &str, message: String, whole: &str) -> ApiError {
    // serde reports a missing field at the parent's path with the name in the message.
    let (field, message) = match message.strip_prefix("missing field `") {
        Some(rest) => {
            let name = rest.split('`').next().unwrap_or_default();
            let field = if path == "." { name.to_owned() } else { format!("{path}.{name}") };
            (field, "is required".to_owned())
        }
        None => (if path == "." { whole.to_owned() } else { path.to_owned() }, message),
    };
    ApiError::Validation(vec![FieldProblem { field, message }])
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Maps actix's path-segment errors (`/api/products/abc`) to a 404: no resource has that ID.
pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("no such resource ({err})")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_floats_are_integers_and_fractions_are_not() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            n: i64,
        }
        assert_eq!(parse_json::<B>(br#"{"n": -5.0}"#).unwrap().n, -5);
        assert_eq!(parse_json::<B>(br#"{"n": 1e3}"#).unwrap().n, 1000);
        let e = parse_json::<B>(br#"{"n": 1.5}"#).unwrap_err();
        assert_eq!(e.code(), "validation_failed");
        assert_eq!(parse_json::<B>(br#"{"n": 5} x"#).unwrap_err().code(), "malformed_json");
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        price_cents: i64,
        tags: Option<Vec<Tag>>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Tag {
        label: String,
    }

    fn field_of(e: ApiError) -> (u16, String) {
        let p = e.problem();
        (p.status, p.errors.first().map(|f| f.field.clone()).unwrap_or_default())
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = parse_json::<Body>(br#"{"name":"x","price_cents":"cheap"}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "price_cents".into()));
    }

    #[test]
    fn missing_field_names_the_field() {
        let e = parse_json::<Body>(br#"{"name":"x"}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "price_cents".into()));
    }

    #[test]
    fn nested_errors_carry_the_path() {
        let e = parse_json::<Body>(br#"{"name":"x","price_cents":1,"tags":[{"label":1}]}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "tags[0].label".into()));
        let e = parse_json::<Body>(br#"{"name":"x","price_cents":1,"tags":[{}]}"#).unwrap_err();
        assert_eq!(field_of(e), (422, "tags[0].label".into()));
    }

    #[test]
    fn broken_json_is_a_400() {
        for body in [&b"{"[..], b"not json", b"{\"name\":\"x\",}", b"{\"name\":\"x\",\"price_cents\":1} {}"] {
            let e = parse_json::<Body>(body).unwrap_err();
            assert_eq!(e.code(), "malformed_json", "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn bad_query_values_name_the_parameter() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Q {
            page: Option<u32>,
        }
        let e = parse_query::<Q>("page=-1").unwrap_err();
        let p = e.problem();
        assert_eq!((p.status, p.code.as_str(), p.errors[0].field.as_str()), (400, "invalid_query", "page"));
        assert!(parse_query::<Q>("page=2&other=x").is_ok());
    }
}
