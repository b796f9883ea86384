//! JSON feeds: an array of objects with the field names as keys. Text and whole numbers are
//! read as they are; a `price` in major units must be a string (`"12.50"`), since a JSON
//! number with a fraction is a binary float.

use retail_domain::feed::{PriceColumn, RawRow, RowError};
use serde_json::Value;

use super::format::{FeedFormat, Field, FileError, ReadRow, field_of, set, utf8_text};

/// The JSON format.
pub struct Json;

impl FeedFormat for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn accepts(&self, media_type: &str) -> bool {
        media_type == "application/json"
    }

    fn reads_extension(&self, ext: &str) -> bool {
        ext == "json"
    }

    fn read(&self, body: &[u8], price: PriceColumn, visit: &mut dyn FnMut(ReadRow)) -> Result<(), FileError> {
        let text = utf8_text(body)?;
        if text.trim().is_empty() {
            return Err(FileError("the file is empty".into()));
        }
        let items: Vec<Value> = match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => items,
            Ok(_) => return Err(FileError("expected a JSON array of objects ([{...}, ...])".into())),
            Err(e) => return Err(FileError(format!("not valid JSON: {e}"))),
        };
        for (i, item) in items.into_iter().enumerate() {
            let number = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
            let Value::Object(map) = item else {
                visit(Err(RowError { row: number, field: "row".into(), reason: "is not an object".into() }));
                continue;
            };
            let mut row = RawRow { number, ..RawRow::default() };
            let mut bad = None;
            for (key, value) in map {
                let Some(field) = field_of(&key, price) else { continue };
                let text = match value {
                    Value::Null => continue,
                    Value::String(s) => s,
                    Value::Number(n) if field == Field::Price && price == PriceColumn::Major => {
                        bad = Some(RowError {
                            row: number,
                            field: key,
                            reason: format!("must be a string such as \"{n}\" (a JSON number is not exact)"),
                        });
                        continue;
                    }
                    Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                    Value::Number(_) => {
                        bad = Some(RowError {
                            row: number,
                            field: key,
                            reason: "must be a whole number".into(),
                        });
                        continue;
                    }
                    Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
                        bad = Some(RowError {
                            row: number,
                            field: key,
                            reason: "must be text or a number".into(),
                        });
                        continue;
                    }
                };
                set(&mut row, field, text);
            }
            visit(bad.map_or(Ok(row), Err));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str, price: PriceColumn) -> Result<Vec<ReadRow>, FileError> {
        let mut rows = Vec::new();
        Json.read(body.as_bytes(), price, &mut |r| rows.push(r))?;
        Ok(rows)
    }

    #[test]
    fn objects_become_rows_numbered_from_one() {
        let rows = read(
            r#"[{"sku":"A","name":"a","price":"1.15","stock":3,"extra":true},{"sku":"B"}]"#,
            PriceColumn::Major,
        )
        .unwrap();
        let a = rows[0].as_ref().unwrap();
        assert_eq!((a.number, a.price.as_deref(), a.stock.as_deref()), (1, Some("1.15"), Some("3")));
        assert_eq!(rows[1].as_ref().unwrap().number, 2);
    }

    #[test]
    fn float_prices_and_odd_values_are_row_errors() {
        let rows = read(
            r#"[{"sku":"A","name":"a","price":1.15}, 7, {"sku":"C","name":"c","price":"1","stock":1.5}]"#,
            PriceColumn::Major,
        )
        .unwrap();
        assert!(rows[0].as_ref().unwrap_err().reason.contains("not exact"));
        assert_eq!(rows[1].as_ref().unwrap_err().reason, "is not an object");
        assert_eq!(rows[2].as_ref().unwrap_err().field, "stock");
        let cents = read(r#"[{"sku":"A","name":"a","price_cents":115}]"#, PriceColumn::Minor).unwrap();
        assert_eq!(cents[0].as_ref().unwrap().price.as_deref(), Some("115"));
    }

    #[test]
    fn only_an_array_is_a_feed() {
        assert!(read(r#"{"sku":"A"}"#, PriceColumn::Major).unwrap_err().0.contains("array"));
        assert!(read(r#"[{"sku":"A""#, PriceColumn::Major).unwrap_err().0.contains("not valid JSON"));
        assert!(read("", PriceColumn::Major).unwrap_err().0.contains("empty"));
        assert!(read("[]", PriceColumn::Major).unwrap().is_empty());
    }
}
