//! MySQL and MariaDB: the current database's `information_schema`, a handful of queries.

use std::collections::HashMap;

use sqlx::{MySqlConnection, Row};

use super::{Column, ForeignKey, OnDelete, Table, classify, length_of, quoted_literals};

/// information_schema's text columns arrive in varied types (and as binary on some
/// versions): read them as text.
fn text(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<String, sqlx::Error> {
    Ok(row
        .try_get_unchecked::<Option<String>, _>(i)?
        .unwrap_or_default())
}

pub(in crate::db) async fn read(conn: &mut MySqlConnection) -> Result<Vec<Table>, sqlx::Error> {
    let mut tables: HashMap<String, Table> = HashMap::new();
    let rows = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let name = text(&row, 0)?;
        let kind = text(&row, 1)?;
        tables.insert(
            name.clone(),
            Table {
                qualified: name.clone(),
                name,
                is_view: kind.contains("VIEW"),
                ..Table::default()
            },
        );
    }

    let rows = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR),
                CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR),
                CAST(EXTRA AS CHAR), CAST(CHARACTER_MAXIMUM_LENGTH AS CHAR)
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let Some(table) = tables.get_mut(&text(&row, 0)?) else {
            continue;
        };
        let data_type = text(&row, 2)?;
        let column_type = text(&row, 3)?;
        let default: Option<String> = row.try_get_unchecked(5)?;
        let extra = text(&row, 6)?.to_ascii_lowercase();
        let choices = if data_type == "enum" || data_type == "set" {
            quoted_literals(&column_type)
        } else {
            Vec::new()
        };
        table.columns.push(Column {
            name: text(&row, 1)?,
            field_type: classify(&data_type, &column_type),
            max_length: if matches!(data_type.as_str(), "varchar" | "char") {
                length_of(&column_type)
            } else {
                None
            },
            sql_type: column_type,
            nullable: text(&row, 4)? == "YES",
            // MariaDB shows no default as the text NULL.
            has_default: default.is_some_and(|d| d != "NULL")
                || extra.contains("default_generated"),
            auto_increment: extra.contains("auto_increment"),
            computed: extra.contains("generated")
                || extra.contains("virtual")
                || extra.contains("persistent")
                || extra.contains("stored"),
            choices,
        });
    }

    let rows = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR),
                CAST(REFERENCED_TABLE_NAME AS CHAR), CAST(REFERENCED_COLUMN_NAME AS CHAR)
         FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE()
         ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut foreign: Vec<((String, String), ForeignKey)> = Vec::new();
    for row in rows {
        let table_name = text(&row, 0)?;
        let constraint = text(&row, 1)?;
        let column = text(&row, 2)?;
        let target = text(&row, 3)?;
        let Some(table) = tables.get_mut(&table_name) else {
            continue;
        };
        if constraint == "PRIMARY" {
            table.primary_key.push(column);
        } else if !target.is_empty() {
            let key = (table_name, constraint);
            match foreign.iter_mut().find(|(k, _)| *k == key) {
                Some((_, fk)) => {
                    fk.columns.push(column);
                    fk.target_columns.push(text(&row, 4)?);
                }
                None => foreign.push((
                    key,
                    ForeignKey {
                        columns: vec![column],
                        target,
                        target_columns: vec![text(&row, 4)?],
                        on_delete: OnDelete::Restrict,
                    },
                )),
            }
        }
    }
    let rules = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(DELETE_RULE AS CHAR)
         FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rules {
        let key = (text(&row, 0)?, text(&row, 1)?);
        if let Some((_, fk)) = foreign.iter_mut().find(|(k, _)| *k == key) {
            fk.on_delete = OnDelete::from_rule(&text(&row, 2)?);
        }
    }
    for ((table_name, _), fk) in foreign {
        if let Some(table) = tables.get_mut(&table_name) {
            table.foreign_keys.push(fk);
        }
    }

    let rows = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED),
                CAST(COLUMN_NAME AS CHAR)
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut indexes: Vec<((String, String), bool, Vec<String>)> = Vec::new();
    for row in rows {
        let key = (text(&row, 0)?, text(&row, 1)?);
        let unique = row.try_get::<i64, _>(2)? == 0;
        let column = text(&row, 3)?;
        match indexes.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, columns)) => columns.push(column),
            None => indexes.push((key, unique, vec![column])),
        }
    }
    for ((table_name, index), unique, columns) in indexes {
        let Some(table) = tables.get_mut(&table_name) else {
            continue;
        };
        table.indexed.insert(columns[0].clone());
        if unique && index != "PRIMARY" && !table.unique.contains(&columns) {
            table.unique.push(columns);
        }
    }

    // CHECK constraints: `col IN ('a', 'b')` gives choices; MariaDB's JSON type is LONGTEXT
    // with CHECK (json_valid(`col`)).
    let checks = sqlx::query(
        "SELECT CAST(tc.TABLE_NAME AS CHAR), CAST(cc.CHECK_CLAUSE AS CHAR)
         FROM information_schema.CHECK_CONSTRAINTS cc
         JOIN information_schema.TABLE_CONSTRAINTS tc
           ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME
         WHERE cc.CONSTRAINT_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for row in checks {
        let Some(table) = tables.get_mut(&text(&row, 0)?) else {
            continue;
        };
        let clause = text(&row, 1)?;
        let lower = clause.to_ascii_lowercase();
        let named: Vec<String> = clause
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        let [column] = named.as_slice() else { continue };
        let Some(c) = table.columns.iter_mut().find(|c| &c.name == column) else {
            continue;
        };
        if lower.starts_with("json_valid(") {
            c.field_type = Some(crate::schema::FieldType::Json);
        } else if lower.contains(" in (") && c.choices.is_empty() {
            c.choices = quoted_literals(&clause);
        }
    }
    Ok(tables.into_values().collect())
}
