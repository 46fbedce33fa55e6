//! The parameters of a list request, in one table ([`PARAMETERS`]): each one's name, the wire
//! dialects it belongs to, its purpose and its documentation. The table drives the parser
//! (which names are known), the OpenAPI document's parameters and the messages of both.
//!
//! Parameters of several dialects may meet in one request (the OpenAPI document cannot say
//! that two parameters exclude each other, so nothing a client reads there is refused):
//! filters all apply; for the search, sorting and paging, one dialect's parameters decide,
//! in a documented order (see [`Purpose`]).

use super::Error;

/// The wire dialects of list requests, as a set: a parameter may belong to several.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialects(u8);

impl Dialects {
    /// ng-admin / aiohttp_admin: `_page`, `_perPage`, `_sortField`, `_sortDir`, `_filters`.
    pub const NG_ADMIN: Dialects = Dialects(1);
    /// react-admin's simple-rest: `range`, `sort`, `filter` (and the `Range` header).
    pub const SIMPLE_REST: Dialects = Dialects(2);
    /// react-admin's json-server, paged: `_page`, `_limit`.
    pub const JSON_SERVER_PAGE: Dialects = Dialects(4);
    /// react-admin's json-server, by rows: `_start`, `_end`; and `_sort`, `_order`.
    pub const JSON_SERVER: Dialects = Dialects(8);
    /// Every dialect (`q`, `_count`, `_cursor`).
    pub const ALL: Dialects = Dialects(15);

    const fn or(self, other: Dialects) -> Dialects {
        Dialects(self.0 | other.0)
    }

    fn overlaps(self, other: Dialects) -> bool {
        self.0 & other.0 != 0
    }

    /// The dialects' names, for documentation.
    pub fn names(self) -> Vec<&'static str> {
        if self == Dialects::ALL {
            return vec!["every dialect"];
        }
        let mut names = Vec::new();
        for (set, name) in [
            (Dialects::NG_ADMIN, "ng-admin"),
            (Dialects::SIMPLE_REST, "simple-rest"),
            (
                Dialects::JSON_SERVER_PAGE.or(Dialects::JSON_SERVER),
                "json-server",
            ),
        ] {
            if self.overlaps(set) {
                names.push(name);
            }
        }
        names
    }
}

/// What a parameter is for. When parameters of several dialects have one purpose: filters
/// all apply (AND); `q` is the search rather than `filter.q`; `sort` sorts rather than
/// `_sort`/`_order`, which sort rather than `_sortField`/`_sortDir`; `range` pages rather than
/// `_start`/`_end`, which page rather than `_page` with `_perPage` or `_limit` (`_perPage`
/// rather than `_limit`), which page rather than the `Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Filter,
    Search,
    Sort,
    Page,
    Count,
    Cursor,
}

/// The shape of a parameter's value, for the OpenAPI document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A whole number from `min`.
    Whole { min: u64 },
    /// Text (JSON text where the documentation says so).
    Text,
    /// The name of a readable field of the entity.
    SortField,
    /// `ASC` or `DESC` in either case.
    Direction,
    /// `exact`, `estimated` or `none`.
    CountMode,
}

/// One parameter of a list request.
#[derive(Clone, Copy, Debug)]
pub struct Parameter {
    pub name: &'static str,
    pub dialects: Dialects,
    pub purpose: Purpose,
    pub shape: Shape,
    /// Whether a list without paging (an export) takes it too.
    pub unpaged: bool,
    pub doc: &'static str,
}

const fn parameter(
    name: &'static str,
    dialects: Dialects,
    purpose: Purpose,
    shape: Shape,
    doc: &'static str,
) -> Parameter {
    let unpaged = !matches!(purpose, Purpose::Page | Purpose::Cursor);
    Parameter {
        name,
        dialects,
        purpose,
        shape,
        unpaged,
        doc,
    }
}

/// Every named parameter of a list request, in the order the parser takes them. Besides
/// these, json-server's field filters (`views=3`, `views_gte=3`...) are built from the
/// entity's fields and `super::filter::OPERATORS`.
pub const PARAMETERS: &[Parameter] = &[
    parameter(
        "_filters",
        Dialects::NG_ADMIN,
        Purpose::Filter,
        Shape::Text,
        "A JSON object of field: value | [values] | {operator: value}; a many-to-many relation: key | [keys] (holds any) | {\"all\": [keys]} | {\"is_empty\": true}.",
    ),
    parameter(
        "filter",
        Dialects::SIMPLE_REST,
        Purpose::Filter,
        Shape::Text,
        "The same JSON object as _filters; its key q is the quick search.",
    ),
    parameter(
        "q",
        Dialects::ALL,
        Purpose::Search,
        Shape::Text,
        "Quick search: case-insensitive substring over the entity's search fields.",
    ),
    parameter(
        "_sortField",
        Dialects::NG_ADMIN,
        Purpose::Sort,
        Shape::SortField,
        "Sort field; reference.display (author_id.name) sorts by the value a reference shows.",
    ),
    parameter(
        "_sortDir",
        Dialects::NG_ADMIN,
        Purpose::Sort,
        Shape::Direction,
        "Sort direction.",
    ),
    parameter(
        "sort",
        Dialects::SIMPLE_REST,
        Purpose::Sort,
        Shape::Text,
        "[\"field\", \"ASC\"|\"DESC\"], JSON; the field may be reference.display.",
    ),
    parameter(
        "_sort",
        Dialects::JSON_SERVER,
        Purpose::Sort,
        Shape::Text,
        "Comma-separated fields, -field for descending.",
    ),
    parameter(
        "_order",
        Dialects::JSON_SERVER,
        Purpose::Sort,
        Shape::Text,
        "Comma-separated asc|desc, one per _sort field.",
    ),
    parameter(
        "_page",
        Dialects::NG_ADMIN.or(Dialects::JSON_SERVER_PAGE),
        Purpose::Page,
        Shape::Whole { min: 1 },
        "1-based page number.",
    ),
    parameter(
        "_perPage",
        Dialects::NG_ADMIN,
        Purpose::Page,
        Shape::Whole { min: 1 },
        "Page size (capped at the admin's max_per_page).",
    ),
    parameter(
        "_limit",
        Dialects::JSON_SERVER_PAGE,
        Purpose::Page,
        Shape::Whole { min: 1 },
        "Page size (capped at the admin's max_per_page).",
    ),
    parameter(
        "range",
        Dialects::SIMPLE_REST,
        Purpose::Page,
        Shape::Text,
        "[first, last] rows, JSON, both included.",
    ),
    parameter(
        "_start",
        Dialects::JSON_SERVER,
        Purpose::Page,
        Shape::Whole { min: 0 },
        "First row (0-based).",
    ),
    parameter(
        "_end",
        Dialects::JSON_SERVER,
        Purpose::Page,
        Shape::Whole { min: 0 },
        "The row after the last.",
    ),
    parameter(
        "_count",
        Dialects::ALL,
        Purpose::Count,
        Shape::CountMode,
        "Count the total less exactly than the entity does (never more).",
    ),
    parameter(
        "_cursor",
        Dialects::ALL,
        Purpose::Cursor,
        Shape::Text,
        "The page after a row, by keyset: the cursor of a previous page's Link rel=\"next\" (with the same sort). Replaces the page number or offset.",
    ),
];

/// The decoded query string: name → values, in order of appearance.
pub(super) struct Params(Vec<(String, Vec<String>)>);

impl Params {
    /// Splits and percent-decodes a query string (`+` is a space). Text that is not UTF-8
    /// once decoded (`q=%FF`) is refused: read leniently it would become U+FFFD and match
    /// nothing, quietly.
    pub fn decode(query_string: &str) -> Result<Params, Error> {
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for pair in query_string.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode_component(name)?, decode_component(value)?);
            match params.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => params.push((name, vec![value])),
            }
        }
        Ok(Params(params))
    }

    /// Takes every value of a parameter.
    pub fn all(&mut self, name: &str) -> Option<Vec<String>> {
        let position = self.0.iter().position(|(n, _)| n == name)?;
        Some(self.0.remove(position).1)
    }

    /// Takes a parameter that may appear at most once.
    pub fn one(&mut self, name: &str) -> Result<Option<String>, Error> {
        let Some(position) = self.0.iter().position(|(n, _)| n == name) else {
            return Ok(None);
        };
        let (name, mut values) = self.0.remove(position);
        if values.len() > 1 {
            return Err(Error::Repeated(name));
        }
        Ok(values.pop())
    }

    /// Takes every parameter of `purpose` (each at most once).
    pub fn purpose(&mut self, purpose: Purpose) -> Result<Taken, Error> {
        let mut taken = Vec::new();
        for parameter in PARAMETERS.iter().filter(|p| p.purpose == purpose) {
            if let Some(value) = self.one(parameter.name)? {
                taken.push((parameter.name, value));
            }
        }
        Ok(Taken(taken))
    }

    /// What no table entry took: json-server's field filters (or unknown parameters).
    pub fn rest(self) -> Vec<(String, Vec<String>)> {
        self.0
    }
}

/// `text` as one name, value or path segment of a URL: every byte but the unreserved ones
/// (letters, digits, `-`, `_`, `.`, `~`) percent-encoded; [`decode_component`] reads it back.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One name or value of a query string, percent-decoded; a `%` not followed by two hex
/// digits stays as it is (as browsers read it).
fn decode_component(raw: &str) -> Result<String, Error> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        Error::Undecodable(format!("\"{raw}\" is not UTF-8 text once percent-decoded"))
    })
}

/// The values of one purpose's parameters.
pub(super) struct Taken(Vec<(&'static str, String)>);

impl Taken {
    pub fn get(&mut self, name: &str) -> Option<String> {
        let position = self.0.iter().position(|(n, _)| *n == name)?;
        Some(self.0.remove(position).1)
    }
}
