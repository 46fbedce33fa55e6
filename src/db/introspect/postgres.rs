//! PostgreSQL's catalog, read from `pg_catalog` (not `information_schema`, which is slow and
//! filtered by privileges) in four queries for the whole schema, however many tables. They are
//! unnamed statements (`persistent(false)`): each runs once, and behind a transaction pooler a
//! named one would outlive its transaction (`db/pooler.rs`).

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use super::{Column, ForeignKey, OnDelete, Table, classify, quoted_literals};

pub(in crate::db) async fn read(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<Vec<Table>, sqlx::Error> {
    let mut tables: HashMap<i64, Table> = HashMap::new();
    let rows = sqlx::query(
        "SELECT c.oid::int8, c.relname::text, c.relkind::text
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')",
    )
    .bind(schema)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let name: String = row.try_get(1)?;
        let kind: String = row.try_get(2)?;
        let qualified = if schema == "public" {
            name.clone()
        } else {
            format!("{schema}.{name}")
        };
        tables.insert(
            row.try_get(0)?,
            Table {
                name,
                qualified,
                is_view: kind == "v" || kind == "m",
                ..Table::default()
            },
        );
    }

    let rows = sqlx::query(
        "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text,
                t.typtype::text, a.attnotnull, a.atthasdef, coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
                a.attidentity::text, a.attgenerated::text,
                CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END,
                coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
                          WHERE e.enumtypid = CASE WHEN t.typcategory = 'A' THEN t.typelem
                                                   ELSE a.atttypid END), '{}'::text[]),
                coalesce(bt.typname::text, ''),
                coalesce(et.typname::text, ''), coalesce(et.typtype::text, '')
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
         LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attrelid, a.attnum",
    )
    .bind(schema)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let Some(table) = tables.get_mut(&row.try_get::<i64, _>(0)?) else {
            continue;
        };
        let sql_type: String = row.try_get(2)?;
        let type_name: String = row.try_get(3)?;
        let type_kind: String = row.try_get(4)?;
        let default: String = row.try_get(7)?;
        let identity: String = row.try_get(8)?;
        let generated: String = row.try_get(9)?;
        let enum_labels: Vec<String> = row.try_get(11)?;
        let domain_base: String = row.try_get(12)?;
        let element: String = row.try_get(13)?;
        let element_kind: String = row.try_get(14)?;
        // An array of an enum, or of text (its choices from a CHECK): a multi-choice.
        let texts = matches!(element.as_str(), "text" | "varchar" | "bpchar");
        let base = if element_kind == "e" || texts {
            "multichoice".to_owned()
        } else if type_kind == "e" {
            "enum".to_owned()
        } else if !domain_base.is_empty() {
            domain_base
        } else {
            type_name
        };
        table.columns.push(Column {
            name: row.try_get(1)?,
            field_type: classify(&base, &sql_type),
            sql_type,
            nullable: !row.try_get::<bool, _>(5)?,
            has_default: row.try_get::<bool, _>(6)? || !identity.is_empty(),
            auto_increment: !identity.is_empty() || default.starts_with("nextval("),
            computed: !generated.is_empty(),
            max_length: row
                .try_get::<Option<i32>, _>(10)?
                .and_then(|n| u64::try_from(n).ok()),
            choices: enum_labels,
        });
    }

    let rows = sqlx::query(
        "SELECT con.conrelid::int8, con.contype::text,
                array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i),
                coalesce(fc.relname::text, ''),
                array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i),
                pg_get_constraintdef(con.oid), con.confdeltype::text
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid
         WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f', 'c')
         ORDER BY con.conrelid, con.conname",
    )
    .bind(schema)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let Some(table) = tables.get_mut(&row.try_get::<i64, _>(0)?) else {
            continue;
        };
        let kind: String = row.try_get(1)?;
        let columns: Vec<String> = row.try_get(2)?;
        match kind.as_str() {
            "p" => table.primary_key = columns,
            "u" => table.unique.push(columns),
            "f" => table.foreign_keys.push(ForeignKey {
                columns,
                target: row.try_get(3)?,
                target_columns: row.try_get(4)?,
                on_delete: OnDelete::from_rule(&row.try_get::<String, _>(6)?),
            }),
            // CHECK (status IN ('a', 'b')) on one column: its choices.
            _ => {
                let definition: String = row.try_get(5)?;
                if let [column] = columns.as_slice() {
                    let values = quoted_literals(&definition);
                    let is_set = definition.contains(" IN ")
                        || (definition.contains("ANY (") && definition.contains("ARRAY["))
                        // An array column within a list: `labels <@ ARRAY['a', 'b']`.
                        || (definition.contains("<@") && definition.contains("ARRAY["));
                    if is_set
                        && !values.is_empty()
                        && let Some(c) = table.columns.iter_mut().find(|c| &c.name == column)
                        && c.choices.is_empty()
                    {
                        c.choices = values;
                    }
                }
            }
        }
    }

    let rows = sqlx::query(
        "SELECT i.indrelid::int8, i.indisunique, i.indnkeyatts::int4,
                array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, n)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.n),
                am.amname::text, coalesce((i.indoption::int2[])[0], 0)::int4
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND i.indpred IS NULL",
    )
    .bind(schema)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let Some(table) = tables.get_mut(&row.try_get::<i64, _>(0)?) else {
            continue;
        };
        let columns: Vec<String> = row.try_get(3)?;
        let method: String = row.try_get(4)?;
        if let Some(first) = columns.first() {
            table.indexed.insert(first.clone());
            // indoption's bits: 1 DESC, 2 NULLS FIRST.
            let option: i32 = row.try_get(5)?;
            if method == "btree" {
                table
                    .ordered
                    .push((first.clone(), option & 1 != 0, option & 2 != 0));
            }
            if method == "gin" || method == "gist" {
                table.trigram.insert(first.clone());
            }
        }
        if row.try_get::<bool, _>(1)?
            && !table.unique.contains(&columns)
            && table.primary_key != columns
        {
            table.unique.push(columns);
        }
    }
    Ok(tables.into_values().collect())
}
