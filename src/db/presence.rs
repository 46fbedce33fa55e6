//! Who has a record open (live updates: "also open by bob"): autoadmin's table of open forms,
//! each kept alive by its form and forgotten when it closes or stops saying so. In the
//! database, so every instance sees the forms open through the others.

use super::{Db, Error, Record};
use crate::query::{Comparison, ListQuery};
use crate::schema::{Direction, Entity, Field, Value};

const TABLE: &str = "autoadmin_presence";

/// The table as an entity of autoadmin's own, to read it with the list machinery.
fn entity() -> Entity {
    Entity::new("_presence")
        .table(TABLE)
        .primary_key("viewer")
        .field(Field::string("entity"))
        .field(Field::string("record_id"))
        .field(Field::string("viewer"))
        .field(Field::string("username"))
        .field(Field::integer("seen_until"))
}

/// One open form of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub user: Option<String>,
}

impl Db {
    /// Creates the table if it is not there.
    pub async fn ensure_presence_table(&self) -> Result<(), Error> {
        self.execute_script(&self.dialect().presence_table()).await
    }

    /// Says that `viewer` (a form, of `user`) has `record_id` of `entity` open until
    /// `until` (ms); forgets the forms whose time ran out before `now`. Returns the others
    /// that have it open now.
    pub async fn present(
        &self,
        entity: &str,
        record_id: &str,
        viewer: &str,
        user: Option<&str>,
        now: i64,
        until: i64,
    ) -> Result<Vec<Viewer>, Error> {
        let text = |s: &str| Value::Text(s.to_owned());
        let forget = self.numbered(
            &format!(
                "DELETE FROM {TABLE} WHERE entity = ? AND record_id = ? AND viewer = ? OR seen_until < ?"
            ),
            vec![text(entity), text(record_id), text(viewer), Value::Int(now)],
        );
        let name = user.map_or(Value::Null(crate::schema::Kind::Text), text);
        let insert = self.numbered(
            &format!(
                "INSERT INTO {TABLE} (entity, record_id, viewer, username, seen_until) VALUES (?, ?, ?, ?, ?)"
            ),
            vec![text(entity), text(record_id), text(viewer), name, Value::Int(until)],
        );
        self.write_own(move |tx| {
            Box::pin(async move {
                tx.execute(&forget).await?;
                tx.execute(&insert).await?;
                Ok(())
            })
        })
        .await?;
        let table = self::entity();
        let filter =
            |name: &str, comparison, value| super::compare(&table, name, comparison, value);
        let others = ListQuery::rows(
            vec![
                filter("entity", Comparison::Eq, text(entity)),
                filter("record_id", Comparison::Eq, text(record_id)),
                filter("viewer", Comparison::Ne, text(viewer)),
                filter("seen_until", Comparison::Gte, Value::Int(now)),
            ],
            super::field_index(&table, "viewer"),
            Direction::Asc,
            100,
        );
        let rows = self.all(&table, &others).await?;
        Ok(rows.iter().map(viewer_of).collect())
    }

    /// Forgets that `viewer` has `record_id` of `entity` open (its form closed).
    pub async fn absent(&self, entity: &str, record_id: &str, viewer: &str) -> Result<(), Error> {
        let text = |s: &str| Value::Text(s.to_owned());
        let forget = self.numbered(
            &format!("DELETE FROM {TABLE} WHERE entity = ? AND record_id = ? AND viewer = ?"),
            vec![text(entity), text(record_id), text(viewer)],
        );
        self.write_own(move |tx| {
            Box::pin(async move {
                tx.execute(&forget).await?;
                Ok(())
            })
        })
        .await
    }
}

fn viewer_of(row: &Record) -> Viewer {
    Viewer {
        user: row
            .get("username")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
    }
}
