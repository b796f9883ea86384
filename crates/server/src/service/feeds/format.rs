//! Feed formats behind one trait: a new format is one file implementing [`FeedFormat`] and
//! one line in [`FORMATS`].

use retail_domain::feed::{PriceColumn, RawRow, RowError};

/// Why a file cannot be read at all (as opposed to a bad row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// A row read from a file, or why that row could not be read.
pub type ReadRow = Result<RawRow, RowError>;

/// A feed format.
pub trait FeedFormat: Sync {
    /// Its name, as stored on the job (`csv`, `json`).
    fn name(&self) -> &'static str;

    /// Whether it reads bodies of this media type (lower case, without parameters).
    fn accepts(&self, media_type: &str) -> bool;

    /// Whether it reads files with this extension (lower case, without the dot).
    fn reads_extension(&self, ext: &str) -> bool;

    /// Reads every row of `body`, in order, handing each to `visit`: the price comes from
    /// the column `price` names. `Err` when the file as a whole cannot be read.
    fn read(&self, body: &[u8], price: PriceColumn, visit: &mut dyn FnMut(ReadRow)) -> Result<(), FileError>;
}

/// Every format the shop reads.
pub static FORMATS: &[&dyn FeedFormat] = &[&super::csv::Csv, &super::json::Json];

/// The format for a media type (`text/csv; charset=utf-8` reads as `text/csv`).
pub fn by_media_type(content_type: &str) -> Option<&'static dyn FeedFormat> {
    let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    FORMATS.iter().copied().find(|f| f.accepts(&media))
}

/// The format by name.
pub fn by_name(name: &str) -> Option<&'static dyn FeedFormat> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// The format for a file name's extension.
pub fn by_file_name(name: &str) -> Option<&'static dyn FeedFormat> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    FORMATS.iter().copied().find(|f| f.reads_extension(&ext))
}

/// The body as UTF-8 text without a byte-order mark; a clear error for anything else.
pub fn utf8_text(body: &[u8]) -> Result<&str, FileError> {
    if body.starts_with(&[0xFF, 0xFE]) || body.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError("the file is UTF-16; send UTF-8".into()));
    }
    let body = body.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(body);
    std::str::from_utf8(body).map_err(|e| {
        FileError(format!(
            "the file is not UTF-8 text (invalid byte at offset {}); send UTF-8",
            e.valid_up_to()
        ))
    })
}

/// Maps a header or key to the field it feeds (`None`: not a field, ignored).
pub fn field_of(name: &str, price: PriceColumn) -> Option<Field> {
    let n = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    Some(match n.as_str() {
        "sku" => Field::Sku,
        "name" | "title" => Field::Name,
        "price" if price == PriceColumn::Major => Field::Price,
        "price_cents" if price == PriceColumn::Minor => Field::Price,
        "currency" => Field::Currency,
        "stock" | "quantity" | "qty" => Field::Stock,
        "category" => Field::Category,
        "description" => Field::Description,
        _ => return None,
    })
}

/// A field of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `sku`.
    Sku,
    /// `name`.
    Name,
    /// `price` or `price_cents`.
    Price,
    /// `currency`.
    Currency,
    /// `stock`.
    Stock,
    /// `category`.
    Category,
    /// `description`.
    Description,
}

/// Sets `field` of `row` to `value`.
pub fn set(row: &mut RawRow, field: Field, value: String) {
    let slot = match field {
        Field::Sku => &mut row.sku,
        Field::Name => &mut row.name,
        Field::Price => &mut row.price,
        Field::Currency => &mut row.currency,
        Field::Stock => &mut row.stock,
        Field::Category => &mut row.category,
        Field::Description => &mut row.description,
    };
    *slot = Some(value);
}

/// The name of the price column under a contract.
pub fn price_name(price: PriceColumn) -> &'static str {
    match price {
        PriceColumn::Major => "price",
        PriceColumn::Minor => "price_cents",
    }
}
