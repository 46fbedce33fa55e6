//! Entity descriptors: the single source of truth from which routes, SQL, validation and the
//! SPA's config are derived.
//!
//! A [`Schema`] is built either from TOML (`[[entity]]` tables, [`load`]; the file as a whole
//! is `crate::config`'s) or in Rust with the builder methods of [`Entity`] and [`Field`]; both
//! end in [`Schema::new`], which checks the whole thing and resolves cross-entity facts (the
//! key type behind a reference). It knows nothing of HTTP, SQL drivers, users or settings.
//!
//! `field.rs`, `entity.rs`, `relation.rs` and `action.rs` are the descriptors, `check.rs` their checks, `load.rs` and
//! `print.rs` TOML both ways, `value.rs` typed values, `validate.rs` and `typed.rs` the
//! validation of write bodies.

mod access;
mod action;
mod check;
mod codes;
mod entity;
mod field;
pub(crate) mod load;
mod print;
mod relation;
mod typed;
mod validate;
pub mod value;

use std::sync::Arc;

pub use access::{FieldAccess, FieldRules, RowScopes, check_rules};
pub use action::EntityAction;
pub use check::{Error, is_route_name};
pub use codes::field_error_code;
pub(crate) use entity::parse_sort_spec;
pub use entity::{AUDIT_ENTITY, CountMode, DeclaredView, Direction, Entity};
pub use field::{Field, FieldType, Pattern, Shown};
pub(crate) use load::one_line;
pub use print::{print_entities, quote_toml};
pub use relation::{Junction, Relation};
pub use typed::TypedValidator;
pub use validate::{
    Changes, FieldErrors, WriteError, check_update, prepare_create, prepare_update, validate_record,
};
pub use value::{Kind, Value};

/// All entities, checked and cross-resolved; cheap to clone.
#[derive(Clone, Debug)]
pub struct Schema {
    entities: Arc<Vec<Entity>>,
}

impl Schema {
    /// Entities already checked and resolved (a restricted copy of a schema's).
    fn from_checked(entities: Vec<Entity>) -> Schema {
        Schema {
            entities: Arc::new(entities),
        }
    }

    /// Whether both are the one schema (not a restricted copy of it).
    pub fn same(&self, other: &Schema) -> bool {
        Arc::ptr_eq(&self.entities, &other.entities)
    }

    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }

    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }
}

/// `"published_at"` → `"Published at"`.
/// An English plural made singular (its last word), or the label as it is.
pub(crate) fn singular_of(label: &str) -> String {
    let ends = |end: &str| {
        let at = label.len().saturating_sub(end.len());
        label.len() > end.len()
            && label.is_char_boundary(at)
            && label[at..].eq_ignore_ascii_case(end)
    };
    let cut = |n: usize, add: &str| format!("{}{add}", &label[..label.len() - n]);
    if ends("ies") {
        cut(3, if label.ends_with("IES") { "Y" } else { "y" })
    } else if ["sses", "shes", "ches", "xes", "zzes"]
        .into_iter()
        .any(ends)
    {
        cut(2, "")
    } else if ends("s") && !["ss", "us", "is"].into_iter().any(ends) {
        cut(1, "")
    } else {
        label.to_owned()
    }
}

pub(crate) fn default_label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::singular_of;

    #[test]
    fn plurals_become_singular_by_their_last_word() {
        for (plural, singular) in [
            ("Posts", "Post"),
            ("Post tags", "Post tag"),
            ("Categories", "Category"),
            ("CATEGORIES", "CATEGORY"),
            ("Addresses", "Address"),
            ("Boxes", "Box"),
            ("Matches", "Match"),
            ("Status", "Status"),
            ("Analysis", "Analysis"),
            ("Staff", "Staff"),
            ("Données", "Donnée"),
            ("s", "s"),
            ("", ""),
        ] {
            assert_eq!(singular_of(plural), singular, "{plural}");
        }
    }
}
