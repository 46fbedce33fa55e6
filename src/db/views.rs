//! Saved views: a list's state (filters, search, sort, page size, columns) under a name, in
//! autoadmin's own table, one row per view. Each belongs to the user who saved it and may be
//! shared with a role. The table is the entity `_views`, served only by its own routes
//! (`api/views.rs`), which limit every read and write to the rows of the user asking.

use super::{Db, Error};
use crate::schema::{Entity, Field};

/// The entity name of the saved views.
pub const ENTITY: &str = "_views";
const TABLE: &str = "autoadmin_views";

/// Longest name, entity, owner and role, as the table keeps them.
pub const MAX_NAME: u64 = 200;

/// The saved views as an entity: by name, per user.
pub fn entity() -> Entity {
    Entity::new(ENTITY)
        .table(TABLE)
        .label("Saved views")
        .label_singular("Saved view")
        .per_user()
        .default_sort("name")
        .list_columns(["id", "entity", "name", "owner", "shared_with", "updated_at"])
        .search(["name"])
        .filters(["entity", "name", "owner", "shared_with"])
        .field(Field::integer("id").read_only())
        .field(Field::string("owner").max_length(MAX_NAME))
        .field(
            Field::string("entity")
                .required()
                .min_length(1)
                .max_length(MAX_NAME),
        )
        .field(
            Field::string("name")
                .required()
                .min_length(1)
                .max_length(MAX_NAME),
        )
        .field(
            Field::string("shared_with")
                .label("Shared with")
                .max_length(MAX_NAME),
        )
        .field(Field::json("state").required())
        .field(Field::datetime("updated_at").label("Updated"))
}

impl Db {
    /// Creates the table of saved views if it is not there.
    pub async fn ensure_views_table(&self) -> Result<(), Error> {
        self.execute_script(self.dialect().views_table()).await
    }
}
