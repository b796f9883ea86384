//! CSV feeds: a header row names the columns (any order, unknown ones ignored), the
//! delimiter is detected from the header (`,` `;` tab `|`), quoted fields may hold the
//! delimiter and line breaks, a UTF-8 byte-order mark is skipped. Row numbers count records:
//! the header is row 1, a quoted line break stays in its row, blank lines are no rows.

use retail_domain::feed::{PriceColumn, RawRow, RowError};

use super::format::{FeedFormat, FileError, ReadRow, field_of, price_name, set, utf8_text};

/// The CSV format.
pub struct Csv;

/// The delimiter the header line uses most (outside quotes); `,` when none.
pub fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map_or(b',', |(d, _)| *d)
}

impl FeedFormat for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn accepts(&self, media_type: &str) -> bool {
        matches!(media_type, "text/csv" | "application/csv" | "text/comma-separated-values")
    }

    fn reads_extension(&self, ext: &str) -> bool {
        matches!(ext, "csv" | "tsv" | "txt")
    }

    fn read(&self, body: &[u8], price: PriceColumn, visit: &mut dyn FnMut(ReadRow)) -> Result<(), FileError> {
        let text = utf8_text(body)?;
        if text.trim().is_empty() {
            return Err(FileError("the file is empty".into()));
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(detect_delimiter(text))
            .flexible(true)
            .has_headers(true)
            .from_reader(text.as_bytes());
        let headers =
            reader.headers().map_err(|e| FileError(format!("cannot read the header row: {e}")))?.clone();
        let columns: Vec<_> = headers.iter().map(|h| field_of(h, price)).collect();
        for (needed, name) in [
            (super::format::Field::Sku, "sku"),
            (super::format::Field::Name, "name"),
            (super::format::Field::Price, price_name(price)),
        ] {
            if !columns.contains(&Some(needed)) {
                return Err(FileError(format!(
                    "the header row has no `{name}` column (found: {})",
                    headers
                        .iter()
                        .map(|h| format!("`{}`", h.chars().take(40).collect::<String>()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let mut record = csv::StringRecord::new();
        let mut number = 1u64;
        loop {
            number += 1;
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    if record.iter().all(|f| f.trim().is_empty()) {
                        continue; // a blank line
                    }
                    let mut row = RawRow { number, ..RawRow::default() };
                    for (field, value) in columns.iter().zip(record.iter()) {
                        if let Some(f) = field {
                            set(&mut row, *f, value.to_owned());
                        }
                    }
                    visit(Ok(row));
                }
                Err(e) => {
                    // a broken quote swallows the rest of the file: report it and stop
                    let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                    visit(Err(RowError {
                        row: number,
                        field: "row".into(),
                        reason: format!("unreadable: {e}"),
                    }));
                    if fatal {
                        return Err(FileError(format!("cannot read the file: {e}")));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Vec<ReadRow>, FileError> {
        let mut rows = Vec::new();
        Csv.read(body.as_bytes(), PriceColumn::Major, &mut |r| rows.push(r))?;
        Ok(rows)
    }

    #[test]
    fn headers_map_in_any_order_and_the_delimiter_is_detected() {
        let rows = read("\u{feff}Name;SKU;price;Stock;extra\n\"Tea; green\";TEA-1;1.15;4;x\n").unwrap();
        let r = rows[0].as_ref().unwrap();
        assert_eq!(r.number, 2);
        assert_eq!(r.name.as_deref(), Some("Tea; green"));
        assert_eq!(
            (r.sku.as_deref(), r.price.as_deref(), r.stock.as_deref()),
            (Some("TEA-1"), Some("1.15"), Some("4"))
        );
        let tabs = read("sku\tname\tprice\nA-1\tTab thing\t2\n").unwrap();
        assert_eq!(tabs[0].as_ref().unwrap().name.as_deref(), Some("Tab thing"));
    }

    #[test]
    fn quoted_fields_keep_line_breaks_and_row_numbers_count_records() {
        let rows = read("sku,name,price\nA,\"two\nlines\",1\n\nB,b,2\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].as_ref().unwrap().name.as_deref(), Some("two\nlines"));
        assert_eq!(rows[1].as_ref().unwrap().number, 3, "records are rows; a blank line is none");
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(read("").unwrap_err().0.contains("empty"));
        assert!(read("sku,title\nA,b\n").unwrap_err().0.contains("`price`"));
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("sku".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(Csv.read(&utf16, PriceColumn::Major, &mut |_| {}).unwrap_err().0.contains("UTF-16"));
        assert!(
            Csv.read(b"sku,name,price\nA,\xff\xfe,1\n", PriceColumn::Major, &mut |_| {})
                .unwrap_err()
                .0
                .contains("UTF-8")
        );
        // a header only: no rows, no error
        assert!(read("sku,name,price\n").unwrap().is_empty());
    }

    #[test]
    fn the_minor_unit_contract_reads_price_cents() {
        let mut rows = Vec::new();
        Csv.read(b"sku,name,price_cents\nA,a,1250\n", PriceColumn::Minor, &mut |r| rows.push(r)).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().price.as_deref(), Some("1250"));
        assert!(Csv.read(b"sku,name,price\nA,a,12.50\n", PriceColumn::Minor, &mut |_| {}).is_err());
    }
}
