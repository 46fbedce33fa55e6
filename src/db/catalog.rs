//! What the database's catalog says about the schema's columns that the descriptors cannot:
//! the types a bound value must be cast to, and the order of MySQL ENUM values. Read once
//! when the admin is built (each backend's `load_catalog`).

use std::collections::HashMap;

/// Column types that take a value only through a cast (PostgreSQL enums, json...), by
/// table and column, and MySQL's ENUM columns.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    casts: HashMap<(String, String), String>,
    /// MySQL ENUM columns and their values in declaration order: MySQL sorts an ENUM by
    /// that order but compares it with text alphabetically, so keyset paging compares by
    /// the value's index instead.
    enums: HashMap<(String, String), Vec<String>>,
}

impl Catalog {
    pub fn insert(&mut self, table: &str, column: &str, sql_type: &str) {
        self.casts
            .insert((table.to_owned(), column.to_owned()), sql_type.to_owned());
    }

    pub fn insert_enum(&mut self, table: &str, column: &str, values: Vec<String>) {
        self.enums
            .insert((table.to_owned(), column.to_owned()), values);
    }

    /// The 1-based index of `value` in an ENUM column (only MySQL's are recorded).
    pub fn enum_index(&self, table: &str, column: &str, value: &str) -> Option<i64> {
        let table = table.rsplit('.').next().unwrap_or(table);
        let values = self.enums.get(&(table.to_owned(), column.to_owned()))?;
        values.iter().position(|v| v == value).map(|i| i as i64 + 1)
    }

    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        let table = table.rsplit('.').next().unwrap_or(table);
        self.casts
            .get(&(table.to_owned(), column.to_owned()))
            .map(String::as_str)
    }
}
