//! SQLite: `sqlite_master` and the table pragmas. Declared types follow SQLite's affinity
//! rules, so they are read by their words (`VARCHAR(200)`, `BOOLEAN`, `DATETIME`...).

use sqlx::{Row, SqliteConnection};

use super::{Column, ForeignKey, OnDelete, Table, length_of, quoted_literals};
use crate::schema::FieldType;

pub(in crate::db) async fn read(conn: &mut SqliteConnection) -> Result<Vec<Table>, sqlx::Error> {
    let masters = sqlx::query(
        "SELECT name, type, coalesce(sql, '') FROM sqlite_master
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = Vec::new();
    for master in masters {
        let name: String = master.try_get(0)?;
        let kind: String = master.try_get(1)?;
        let create: String = master.try_get(2)?;
        let mut table = Table {
            qualified: name.clone(),
            name: name.clone(),
            is_view: kind == "view",
            ..Table::default()
        };
        let columns = sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let mut keyed: Vec<(i64, String)> = Vec::new();
        for row in &columns {
            let column_name: String = row.try_get(0)?;
            let declared: String = row.try_get(1)?;
            let pk: i64 = row.try_get(4)?;
            if pk > 0 {
                keyed.push((pk, column_name.clone()));
            }
            table.columns.push(Column {
                field_type: affinity(&declared),
                max_length: if declared.to_ascii_uppercase().contains("CHAR") {
                    length_of(&declared)
                } else {
                    None
                },
                name: column_name,
                nullable: row.try_get::<i64, _>(2)? == 0,
                has_default: row.try_get::<Option<String>, _>(3)?.is_some(),
                auto_increment: false,
                computed: false,
                choices: Vec::new(),
                sql_type: declared,
            });
        }
        keyed.sort();
        table.primary_key = keyed.into_iter().map(|(_, name)| name).collect();
        // INTEGER PRIMARY KEY is the rowid: SQLite assigns it.
        if let [key] = table.primary_key.as_slice()
            && let Some(column) = table.columns.iter_mut().find(|c| &c.name == key)
            && column.sql_type.eq_ignore_ascii_case("integer")
        {
            column.auto_increment = true;
            column.nullable = false;
        }
        let fks = sqlx::query("SELECT id, \"from\", \"table\", coalesce(\"to\", ''), on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
        let mut current: Option<(i64, ForeignKey)> = None;
        for row in fks {
            let id: i64 = row.try_get(0)?;
            let from: String = row.try_get(1)?;
            let target: String = row.try_get(2)?;
            let to: String = row.try_get(3)?;
            let on_delete: String = row.try_get(4)?;
            match &mut current {
                Some((fk_id, fk)) if *fk_id == id => {
                    fk.columns.push(from);
                    fk.target_columns.push(to);
                }
                _ => {
                    if let Some((_, fk)) = current.take() {
                        table.foreign_keys.push(fk);
                    }
                    current = Some((
                        id,
                        ForeignKey {
                            columns: vec![from],
                            target,
                            target_columns: vec![to],
                            on_delete: OnDelete::from_rule(&on_delete),
                        },
                    ));
                }
            }
        }
        if let Some((_, fk)) = current {
            table.foreign_keys.push(fk);
        }
        let indexes = sqlx::query("SELECT name, \"unique\", origin FROM pragma_index_list(?)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
        for index in indexes {
            let index_name: String = index.try_get(0)?;
            let unique: i64 = index.try_get(1)?;
            let origin: String = index.try_get(2)?;
            let columns: Vec<String> =
                sqlx::query("SELECT coalesce(name, '') FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&index_name)
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<_, _>>()?;
            if let Some(first) = columns.first() {
                table.indexed.insert(first.clone());
            }
            if unique == 1 && origin != "pk" && !table.unique.contains(&columns) {
                table.unique.push(columns);
            }
        }
        // A foreign key to the target's rowid names no column: it is the target's key.
        for fk in &mut table.foreign_keys {
            if fk.target_columns.iter().any(String::is_empty) {
                fk.target_columns = vec!["id".to_owned()];
            }
        }
        check_choices(&create, &mut table);
        tables.push(table);
    }
    // Resolve implicit foreign-key targets to the target's real key name.
    let keys: Vec<(String, Vec<String>)> = tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for table in &mut tables {
        for fk in &mut table.foreign_keys {
            if fk.target_columns == ["id"]
                && let Some((_, key)) = keys.iter().find(|(name, _)| *name == fk.target)
                && key.len() == 1
            {
                fk.target_columns = key.clone();
            }
        }
    }
    Ok(tables)
}

/// SQLite's affinity rules, plus the common type words people declare.
fn affinity(declared: &str) -> Option<FieldType> {
    let upper = declared.to_ascii_uppercase();
    let word = upper.split('(').next().unwrap_or("").trim();
    Some(match word {
        "BOOLEAN" | "BOOL" => FieldType::Boolean,
        "DATE" => FieldType::Date,
        "DATETIME" | "TIMESTAMP" | "TIMESTAMPTZ" => FieldType::Datetime,
        "TIME" => FieldType::Time,
        "UUID" => FieldType::Uuid,
        "JSON" | "JSONB" => FieldType::Json,
        "DECIMAL" | "NUMERIC" => FieldType::Decimal,
        _ if upper.contains("INT") => FieldType::Integer,
        _ if upper.contains("CHAR") => FieldType::String,
        _ if upper.contains("CLOB") || upper.contains("TEXT") => FieldType::Text,
        _ if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") => {
            FieldType::Float
        }
        _ => return None,
    })
}

/// `CHECK (status IN ('draft', 'published'))` in the CREATE statement: the column's choices.
fn check_choices(create: &str, table: &mut Table) {
    let upper = create.to_ascii_uppercase();
    let mut from = 0;
    while let Some(found) = upper[from..].find("CHECK") {
        let start = from + found;
        from = start + 5;
        let Some(open) = create[start..].find('(').map(|i| start + i) else {
            break;
        };
        // The parenthesised expression, balanced.
        let mut depth = 0;
        let mut end = open;
        for (i, c) in create[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let expression = &create[open + 1..end];
        let Some(in_at) = expression.to_ascii_uppercase().find(" IN ") else {
            continue;
        };
        let column = expression[..in_at]
            .trim()
            .trim_matches(['"', '`', '[', ']']);
        let values = quoted_literals(&expression[in_at..]);
        if let Some(c) = table.columns.iter_mut().find(|c| c.name == column)
            && !values.is_empty()
        {
            c.choices = values;
        }
    }
}
