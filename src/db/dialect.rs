//! Every SQL difference between the three backends, in one place: quoting, placeholders,
//! casts, RETURNING, substring matching, null-safe inequality, NULL ordering, transaction
//! start, EXPLAIN, and the DDL of autoadmin's own tables (`migrations/{backend}/`). What a
//! backend does differently beyond SQL text (binding, decoding, reading errors, connecting)
//! is in its own file.

use serde_json::Value as Json;

use crate::query::Bucket;
use crate::schema::{Direction, FieldType, Kind, Value};

/// The DDL of one of autoadmin's own tables, from `migrations/{backend}/{file}`.
macro_rules! own_table {
    ($dialect:expr, $file:literal) => {
        match $dialect {
            Dialect::Postgres => include_str!(concat!("../../migrations/postgres/", $file)),
            Dialect::MySql => include_str!(concat!("../../migrations/mysql/", $file)),
            Dialect::Sqlite => include_str!(concat!("../../migrations/sqlite/", $file)),
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    /// Whether a `varchar(n)` column refuses a longer text (SQLite keeps any length).
    pub fn enforces_lengths(self) -> bool {
        self != Dialect::Sqlite
    }

    /// The values an integer column of `sql_type` (as introspection prints it) holds, when
    /// narrower than 64 bits; SQLite's integers are all 64-bit.
    pub fn integer_range(self, sql_type: &str) -> Option<(f64, f64)> {
        if self == Dialect::Sqlite {
            return None;
        }
        let sql_type = sql_type.to_ascii_lowercase();
        let unsigned = sql_type.contains("unsigned");
        let bits = if sql_type.starts_with("tinyint") {
            8
        } else if sql_type.starts_with("smallint") || sql_type.starts_with("int2") {
            16
        } else if sql_type.starts_with("mediumint") {
            24
        } else if sql_type.starts_with("bigint") || sql_type.starts_with("int8") {
            return unsigned.then_some((0.0, i64::MAX as f64));
        } else if sql_type.starts_with("int") || sql_type.starts_with("serial") {
            32
        } else {
            return None;
        };
        let span = 2f64.powi(bits);
        Some(if unsigned {
            (0.0, span - 1.0)
        } else {
            (-span / 2.0, span / 2.0 - 1.0)
        })
    }

    /// Quotes an identifier (from a descriptor, never from a request); `schema.table` is
    /// quoted part by part.
    pub fn quote(self, ident: &str, out: &mut String) {
        let quote = match self {
            Dialect::MySql => '`',
            Dialect::Postgres | Dialect::Sqlite => '"',
        };
        for (i, part) in ident.split('.').enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push(quote);
            for c in part.chars() {
                if c == quote {
                    out.push(quote);
                }
                out.push(c);
            }
            out.push(quote);
        }
    }

    /// The `n`th (1-based) placeholder.
    pub fn placeholder(self, n: usize, out: &mut String) {
        match self {
            Dialect::Postgres => {
                out.push('$');
                out.push_str(&n.to_string());
            }
            Dialect::MySql | Dialect::Sqlite => out.push('?'),
        }
    }

    /// A cast wrapped around a placeholder so that the value reaches the column's type
    /// unchanged. `column_type` is the PostgreSQL type the catalog reported for the column.
    pub fn placeholder_cast(self, kind: Kind, column_type: Option<&str>) -> Option<String> {
        match (self, kind) {
            // Decimals travel as text so that no digit is lost.
            (Dialect::Postgres, Kind::Decimal) => Some("numeric".to_owned()),
            (Dialect::MySql, Kind::Decimal) => Some("DECIMAL(65,30)".to_owned()),
            // Enum, json and other non-text columns take text only through a cast.
            (Dialect::Postgres, Kind::Text | Kind::Json) => column_type.map(str::to_owned),
            // A text[] takes an array column's element type (an enum's) through a cast.
            (Dialect::Postgres, Kind::Texts) => Some(column_type.unwrap_or("TEXT[]").to_owned()),
            _ => None,
        }
    }

    /// Whether INSERT/UPDATE ... RETURNING gives back the stored row (MySQL: re-select).
    pub fn has_returning(self) -> bool {
        matches!(self, Dialect::Postgres | Dialect::Sqlite)
    }

    /// Where inserts return no rows: the statement that reads how a multi-row INSERT's
    /// generated keys follow each other (the auto-increment lock mode, 2 being
    /// "interleaved", and the increment), one row of two integers.
    pub fn auto_increment_settings(self) -> Option<&'static str> {
        match self {
            Dialect::MySql => Some("SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment"),
            Dialect::Postgres | Dialect::Sqlite => None,
        }
    }

    /// Whether `SELECT ... FOR UPDATE` locks the row (SQLite locks the whole database).
    pub fn has_row_locks(self) -> bool {
        matches!(self, Dialect::Postgres | Dialect::MySql)
    }

    /// The select-list expression of a column: decimals are read as text, exactly.
    pub fn select_expr(self, field_type: FieldType, quoted_column: &str, out: &mut String) {
        if field_type == FieldType::MultiChoice && self == Dialect::Postgres {
            // An array of any element type (an enum's), as JSON.
            out.push_str(&format!("array_to_json(CAST({quoted_column} AS TEXT[]))"));
        } else if field_type == FieldType::Decimal {
            let target = match self {
                Dialect::Postgres | Dialect::Sqlite => "TEXT",
                Dialect::MySql => "CHAR",
            };
            out.push_str(&format!("CAST({quoted_column} AS {target})"));
        } else {
            out.push_str(quoted_column);
        }
    }

    /// How a multi-choice column keeps its values, from its type in the catalog.
    pub fn list_storage(self, column_type: Option<&str>) -> ListStorage {
        match (self, column_type) {
            (Dialect::Postgres, _) => ListStorage::Array,
            (Dialect::MySql, Some("set")) => ListStorage::Set,
            _ => ListStorage::Json,
        }
    }

    /// A multi-choice value as its column takes it: an array (bound as `text[]` and cast
    /// to the column's type), a SET's comma-joined text, or JSON text.
    pub fn list_value(self, value: Value, storage: ListStorage) -> Value {
        match (value, storage) {
            (Value::Texts(texts), ListStorage::Set) => Value::Text(texts.join(",")),
            (Value::Texts(texts), ListStorage::Json) => Value::Json(Json::from(texts)),
            (Value::Null(Kind::Texts), ListStorage::Set | ListStorage::Json) => {
                Value::Null(Kind::Text)
            }
            (value, _) => value,
        }
    }

    /// A condition that the multi-choice `column` holds any (or, with `all`, every) one of
    /// `values` (not empty, each once): its text with a `{}` per value to bind, and those
    /// values.
    pub fn list_condition(
        self,
        column: &str,
        storage: ListStorage,
        all: bool,
        values: &[String],
    ) -> (String, Vec<Value>) {
        let texts = || values.iter().cloned().map(Value::Text).collect();
        let each = |one: &str| vec![one; values.len()].join(if all { " AND " } else { " OR " });
        let placeholders = vec!["{}"; values.len()].join(", ");
        match storage {
            // One array, cast to the column's type: overlap, or containment.
            ListStorage::Array => {
                let operator = if all { "@>" } else { "&&" };
                (
                    format!("{column} {operator} {{}}"),
                    vec![Value::Texts(values.to_vec())],
                )
            }
            ListStorage::Set => (
                format!("({})", each(&format!("FIND_IN_SET({{}}, {column}) > 0"))),
                texts(),
            ),
            ListStorage::Json if self == Dialect::MySql => (
                format!(
                    "({})",
                    each(&format!("JSON_CONTAINS({column}, JSON_QUOTE({{}}))"))
                ),
                texts(),
            ),
            ListStorage::Json => {
                let matching =
                    format!("FROM json_each({column}) WHERE json_each.value IN ({placeholders})");
                let test = if all {
                    format!(
                        "(SELECT COUNT(DISTINCT json_each.value) {matching}) = {}",
                        values.len()
                    )
                } else {
                    format!("EXISTS (SELECT 1 {matching})")
                };
                (format!("(json_valid({column}) AND {test})"), texts())
            }
        }
    }

    /// A JSON array of the values of `expr` over the rows of `from` (`FROM … WHERE …`), as a
    /// scalar subquery: `[]` when there are none. The order of the elements is not given.
    pub fn json_array_of(self, expr: &str, from: &str) -> String {
        match self {
            Dialect::Postgres => format!("(SELECT COALESCE(json_agg({expr}), '[]') {from})"),
            Dialect::MySql => format!("(SELECT COALESCE(JSON_ARRAYAGG({expr}), '[]') {from})"),
            Dialect::Sqlite => format!("(SELECT json_group_array({expr}) {from})"),
        }
    }

    /// The text form of a column for substring matching (enum, uuid columns are not text).
    pub fn as_text(self, field_type: FieldType, quoted_column: &str) -> String {
        let is_text = matches!(
            field_type,
            FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
        );
        match self {
            _ if is_text => quoted_column.to_owned(),
            Dialect::Postgres => format!("CAST({quoted_column} AS TEXT)"),
            Dialect::MySql => format!("CAST({quoted_column} AS CHAR)"),
            Dialect::Sqlite => quoted_column.to_owned(),
        }
    }

    /// A "contains" condition on `text_expr` with one placeholder written by `bind`, and the
    /// value to bind for it.
    pub fn contains(self, text_expr: &str, needle: &str, case_sensitive: bool) -> (String, String) {
        let pattern = format!("%{}%", escape_like(needle));
        match (self, case_sensitive) {
            (Dialect::Postgres, false) => (format!("{text_expr} ILIKE {{}}"), pattern),
            (Dialect::Postgres, true) => (format!("{text_expr} LIKE {{}}"), pattern),
            // MySQL's LIKE follows the column's collation; LOWER makes it case-insensitive
            // for every collation, BINARY case-sensitive. Its default escape is '\'.
            (Dialect::MySql, false) => (format!("LOWER({text_expr}) LIKE LOWER({{}})"), pattern),
            (Dialect::MySql, true) => (format!("{text_expr} LIKE BINARY {{}}"), pattern),
            // SQLite's LIKE folds ASCII letters only: a needle with others ("ÄRGER") is a
            // case-insensitive regular expression (Unicode's simple case folding) instead.
            (Dialect::Sqlite, false) if !needle.is_ascii() => (
                format!("{text_expr} REGEXP {{}}"),
                format!("(?i){}", regex::escape(needle)),
            ),
            // SQLite's LIKE is case-insensitive (ASCII); instr is case-sensitive.
            (Dialect::Sqlite, false) => (format!("{text_expr} LIKE {{}} ESCAPE '\\'"), pattern),
            (Dialect::Sqlite, true) => (format!("instr({text_expr}, {{}}) > 0"), needle.to_owned()),
        }
    }

    /// `a <> b` that treats NULL as a value, so "status ne draft" keeps rows without status.
    pub fn null_safe_ne(self, left: &str) -> String {
        match self {
            Dialect::Postgres => format!("{left} IS DISTINCT FROM {{}}"),
            Dialect::MySql => format!("NOT ({left} <=> {{}})"),
            Dialect::Sqlite => format!("{left} IS NOT {{}}"),
        }
    }
}

impl Dialect {
    /// The statement that starts a write transaction. IMMEDIATE takes SQLite's write lock
    /// up front, so a read-then-write transaction cannot deadlock against another writer.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            // Said in the same round trip: the triggers of `watch_external` leave these alone.
            Dialect::Postgres => "BEGIN; SET LOCAL autoadmin.writer = 'on'",
            Dialect::MySql => "BEGIN",
        }
    }

    /// What tells the other instances that the audit log has new rows (PostgreSQL's
    /// `NOTIFY`, which their `LISTEN` hears); elsewhere they find them at their next poll.
    pub fn notify_followers(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("NOTIFY autoadmin_audit"),
            Dialect::MySql | Dialect::Sqlite => None,
        }
    }

    /// The primary's log position now, as a number and a 0 (PostgreSQL's WAL position, in
    /// bytes): a replica that has replayed this far has every write committed before.
    /// `None`: no read replicas on this backend.
    pub fn log_position(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("SELECT (pg_current_wal_lsn() - '0/0')::bigint, 0"),
            Dialect::MySql | Dialect::Sqlite => None,
        }
    }

    /// How far a replica has replayed the primary's log (as `log_position` counts), and 1
    /// if it is a replica at all (in recovery), else 0.
    pub fn replayed_position(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some(
                "SELECT COALESCE((pg_last_wal_replay_lsn() - '0/0')::bigint, -1), \
                 CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END",
            ),
            Dialect::MySql | Dialect::Sqlite => None,
        }
    }

    /// Where writes made outside autoadmin can be seen (PostgreSQL): the trigger function
    /// (`migrations/postgres/autoadmin_external.sql`), and the script that puts its trigger on
    /// `table` (quoted) with `arguments`, unless it is there with them already.
    pub fn watch_external(
        self,
        table: &str,
        arguments: &[String],
    ) -> Option<(&'static str, String)> {
        match self {
            Dialect::Postgres => Some((
                include_str!("../../migrations/postgres/autoadmin_external.sql"),
                super::postgres::watch_script(table, arguments),
            )),
            Dialect::MySql | Dialect::Sqlite => None,
        }
    }

    /// Whether the database has one writer at a time (SQLite), so that writes take turns
    /// in the process rather than in the database's busy handler.
    pub fn has_one_writer(self) -> bool {
        self == Dialect::Sqlite
    }

    /// The first day (`YYYY-MM-DD`, as text) of the day, week (from Monday) or month of a
    /// date or datetime column.
    pub fn period_start(self, bucket: Bucket, column: &str) -> String {
        match (self, bucket) {
            (Dialect::Postgres, _) => {
                format!(
                    "to_char(date_trunc('{}', {column}), 'YYYY-MM-DD')",
                    bucket.name()
                )
            }
            (Dialect::MySql, Bucket::Day) => format!("DATE_FORMAT({column}, '%Y-%m-%d')"),
            (Dialect::MySql, Bucket::Week) => format!(
                "DATE_FORMAT(DATE_SUB({column}, INTERVAL WEEKDAY({column}) DAY), '%Y-%m-%d')"
            ),
            (Dialect::MySql, Bucket::Month) => format!("DATE_FORMAT({column}, '%Y-%m-01')"),
            (Dialect::Sqlite, Bucket::Day) => format!("date({column})"),
            // Six days back, then forward to the first Monday: the Monday of its week.
            (Dialect::Sqlite, Bucket::Week) => format!("date({column}, '-6 days', 'weekday 1')"),
            (Dialect::Sqlite, Bucket::Month) => format!("strftime('%Y-%m-01', {column})"),
        }
    }

    /// The type a sum or an average is read as.
    pub fn float_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::MySql => "DOUBLE",
            Dialect::Sqlite => "REAL",
        }
    }

    /// The start of a plan whose row estimate stands in for a count.
    pub fn explain(self) -> &'static str {
        match self {
            Dialect::Postgres => "EXPLAIN (FORMAT JSON) ",
            Dialect::MySql | Dialect::Sqlite => "EXPLAIN ",
        }
    }

    /// Whether [`Dialect::explain`]'s plan carries a row estimate.
    pub fn has_estimates(self) -> bool {
        self != Dialect::Sqlite
    }

    /// What follows `INSERT INTO t` for a row of defaults only.
    pub fn default_values(self) -> &'static str {
        match self {
            Dialect::MySql => " () VALUES ()",
            Dialect::Postgres | Dialect::Sqlite => " DEFAULT VALUES",
        }
    }

    /// What makes NULL sort as the smallest value of a nullable column, as it does on
    /// SQLite and MySQL already: PostgreSQL must be told.
    pub fn nulls_smallest(self, direction: Direction) -> Option<&'static str> {
        match (self, direction) {
            (Dialect::Postgres, Direction::Asc) => Some(" NULLS FIRST"),
            (Dialect::Postgres, Direction::Desc) => Some(" NULLS LAST"),
            (Dialect::MySql | Dialect::Sqlite, _) => None,
        }
    }

    /// The columns of an index that serves a sort by `column` (which may hold NULLs) then
    /// `key`, in `direction`, NULLs as the smallest value: PostgreSQL must be told where the
    /// NULLs go; elsewhere an index serves either direction.
    pub fn sort_index(self, column: &str, key: &str, direction: Direction) -> String {
        match (self, direction) {
            (Dialect::Postgres, Direction::Asc) => format!("{column} ASC NULLS FIRST, {key} ASC"),
            (Dialect::Postgres, Direction::Desc) => {
                format!("{column} DESC NULLS LAST, {key} DESC")
            }
            (Dialect::MySql | Dialect::Sqlite, _) => format!("{column}, {key}"),
        }
    }

    /// The index that serves substring search (`ILIKE '%…%'`) on a column: PostgreSQL's
    /// trigram index; elsewhere no index helps (`None`).
    pub fn substring_index(self, index: &str, table: &str, column: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX {index} ON {table} USING gin ({column} gin_trgm_ops);"
            )),
            Dialect::MySql | Dialect::Sqlite => None,
        }
    }

    /// `CREATE INDEX` of autoadmin's own tables, that does nothing when the index is there
    /// (MySQL cannot say so: there it fails instead, which the caller ignores).
    pub fn create_index_if_missing(self, name: &str, table: &str, column: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::Sqlite => {
                format!("CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
            }
            Dialect::MySql => format!("CREATE INDEX {name} ON {table} ({column})"),
        }
    }

    /// The DDL of autoadmin's audit table.
    pub fn audit_table(self) -> &'static str {
        own_table!(self, "autoadmin_audit.sql")
    }

    /// The DDL of autoadmin's table of saved views.
    pub fn views_table(self) -> &'static str {
        own_table!(self, "autoadmin_views.sql")
    }

    /// The DDL of autoadmin's table of imports.
    pub fn imports_table(self) -> &'static str {
        own_table!(self, "autoadmin_imports.sql")
    }

    /// The DDL of autoadmin's table of open records (`presence.rs`).
    pub fn presence_table(self) -> String {
        let table = include_str!("../../migrations/autoadmin_presence.sql").trim_end();
        match self {
            Dialect::MySql => format!("{table} DEFAULT CHARSET = utf8mb4"),
            Dialect::Postgres | Dialect::Sqlite => table.to_owned(),
        }
    }

    /// The DDL of autoadmin's session table.
    pub fn sessions_table(self) -> &'static str {
        own_table!(self, "autoadmin_sessions.sql")
    }

    /// The DDL of autoadmin's table of idempotency keys (`once.rs`).
    pub fn idempotency_table(self) -> &'static str {
        own_table!(self, "autoadmin_idempotency.sql")
    }

    /// Claims an idempotency key: inserts its row, or nothing when one is there (0 rows),
    /// after waiting for a transaction that is inserting it to end. Placeholders `?`: scope,
    /// body, expiry.
    pub fn claim_key(self) -> &'static str {
        match self {
            Dialect::MySql => {
                "INSERT IGNORE INTO autoadmin_idempotency (scope_sha256, body_sha256, record_key, expires_at) VALUES (?, ?, '', ?)"
            }
            Dialect::Postgres | Dialect::Sqlite => {
                "INSERT INTO autoadmin_idempotency (scope_sha256, body_sha256, record_key, expires_at) VALUES (?, ?, '', ?) ON CONFLICT (scope_sha256) DO NOTHING"
            }
        }
    }

    /// Counts one more in a login counter, or starts its window again at `now` if it began
    /// at `expired` or before. Placeholders `?` (numbered by `Db::numbered`): counter, now,
    /// expired, expired, now.
    pub fn count_login(self) -> &'static str {
        match self {
            // Assignments run left to right, each seeing the ones before: `attempts` is
            // decided on the old `window_start`, which is changed after it.
            Dialect::MySql => {
                "INSERT INTO autoadmin_login_attempts (counter, window_start, attempts) \
                 VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE \
                 attempts = IF(window_start <= ?, 1, attempts + 1), \
                 window_start = IF(window_start <= ?, ?, window_start)"
            }
            Dialect::Postgres | Dialect::Sqlite => {
                "INSERT INTO autoadmin_login_attempts (counter, window_start, attempts) \
                 VALUES (?, ?, 1) ON CONFLICT (counter) DO UPDATE SET \
                 attempts = CASE WHEN autoadmin_login_attempts.window_start <= ? THEN 1 \
                 ELSE autoadmin_login_attempts.attempts + 1 END, \
                 window_start = CASE WHEN autoadmin_login_attempts.window_start <= ? THEN ? \
                 ELSE autoadmin_login_attempts.window_start END"
            }
        }
    }

    /// Raises a user's session generation (inserting 1 the first time); one parameter, the
    /// user's name.
    pub fn bump_session(self) -> &'static str {
        match self {
            Dialect::MySql => {
                "INSERT INTO autoadmin_sessions (user_name, generation) VALUES (?, 1) ON DUPLICATE KEY UPDATE generation = generation + 1"
            }
            Dialect::Postgres => {
                "INSERT INTO autoadmin_sessions (user_name, generation) VALUES ($1, 1) ON CONFLICT (user_name) DO UPDATE SET generation = autoadmin_sessions.generation + 1"
            }
            Dialect::Sqlite => {
                "INSERT INTO autoadmin_sessions (user_name, generation) VALUES (?, 1) ON CONFLICT (user_name) DO UPDATE SET generation = generation + 1"
            }
        }
    }
}

/// Escapes LIKE's wildcards so that the needle matches literally.
fn escape_like(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len());
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_widths() {
        let pg = |t| Dialect::Postgres.integer_range(t);
        assert_eq!(pg("integer"), Some((-2147483648.0, 2147483647.0)));
        assert_eq!(pg("smallint"), Some((-32768.0, 32767.0)));
        assert_eq!(pg("bigint"), None);
        assert_eq!(pg("numeric(3,1)"), None);
        let my = |t| Dialect::MySql.integer_range(t);
        assert_eq!(my("int(10) unsigned"), Some((0.0, 4294967295.0)));
        assert_eq!(my("tinyint(4)"), Some((-128.0, 127.0)));
        assert_eq!(my("mediumint(9)"), Some((-8388608.0, 8388607.0)));
        assert_eq!(Dialect::Sqlite.integer_range("integer"), None);
    }

    #[test]
    fn quoting_doubles_the_quote_character() {
        let mut out = String::new();
        Dialect::Postgres.quote("we\"ird", &mut out);
        assert_eq!(out, "\"we\"\"ird\"");
        let mut out = String::new();
        Dialect::MySql.quote("shop.or`ders", &mut out);
        assert_eq!(out, "`shop`.`or``ders`");
    }

    #[test]
    fn sqlite_folds_case_beyond_ascii_with_a_regexp() {
        let (sql, value) = Dialect::Sqlite.contains("\"t\"", "ÄRGER (1+1)", false);
        assert_eq!(sql, "\"t\" REGEXP {}");
        assert_eq!(value, "(?i)ÄRGER \\(1\\+1\\)");
        let (sql, _) = Dialect::Sqlite.contains("\"t\"", "ascii", false);
        assert_eq!(sql, "\"t\" LIKE {} ESCAPE '\\'");
    }

    #[test]
    fn like_wildcards_are_literal() {
        let (sql, value) = Dialect::Postgres.contains("\"t\"", "50%_a\\", false);
        assert_eq!(sql, "\"t\" ILIKE {}");
        assert_eq!(value, "%50\\%\\_a\\\\%");
    }
}

/// Where a multi-choice column keeps its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListStorage {
    /// A PostgreSQL array (of text, varchar or an enum).
    Array,
    /// A MySQL SET.
    Set,
    /// A JSON array (MySQL's JSON, MariaDB's LONGTEXT, SQLite's TEXT).
    Json,
}
