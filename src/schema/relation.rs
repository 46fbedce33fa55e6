//! Relations between entities: the records of another entity that reference this one
//! (one-to-many, shown on the detail page: ng-admin's referenced_list), and sets of another
//! entity's records through a junction table (many-to-many: ng-admin's reference_many,
//! Django's ManyToManyField), which records carry as a list of keys.

use super::{Field, FieldType, default_label};

/// A relation of an entity to `target`.
#[derive(Clone, Debug)]
pub struct Relation {
    pub name: String,
    pub target: String,
    /// One-to-many: the target's field that references this entity. Many-to-many: the
    /// junction's column that does.
    pub foreign_key: String,
    pub label: String,
    /// Many-to-many: the junction table...
    pub through: Option<String>,
    /// ...and its column that references the target.
    pub target_key: Option<String>,
    /// Many-to-many: the target's field that names its records in lists, forms and exports;
    /// by default the one references to the target display (see [`super::Entity::naming_field`]).
    pub display: Option<String>,
    /// One-to-many: the children are edited inside the parent's form and written with it
    /// (ng-admin's embedded_list, Django's inlines); records carry them.
    pub inline: bool,
    /// With `inline`: children a write leaves out are deleted (else they stay).
    pub inline_delete: bool,
    /// With `inline`: at most this many children.
    pub inline_max: Option<u64>,
    /// Many-to-many: what its SQL needs; resolved by [`super::Schema::new`].
    pub(crate) junction: Option<Box<Junction>>,
}

/// A many-to-many relation's tables and columns, typed: `through (owner, member)`, where
/// `owner` references this entity's key and `member` the target's.
#[derive(Clone, Debug)]
pub struct Junction {
    pub table: String,
    /// The junction's column that references this entity, typed as this entity's key.
    pub owner: Field,
    /// The junction's column that references the target, typed as the target's key.
    pub member: Field,
    /// The target's table and key, to check that the keys a write names exist.
    pub target_table: String,
    pub target_key: Field,
    /// The target's field that names its members (the relation's `display`), for exports.
    pub shown: Option<Field>,
}

impl Relation {
    /// Records of `target` whose field `foreign_key` references this entity.
    pub fn children(
        name: impl Into<String>,
        target: impl Into<String>,
        foreign_key: impl Into<String>,
    ) -> Relation {
        let name = name.into();
        Relation {
            label: default_label(&name),
            name,
            target: target.into(),
            foreign_key: foreign_key.into(),
            through: None,
            target_key: None,
            display: None,
            inline: false,
            inline_delete: false,
            inline_max: None,
            junction: None,
        }
    }

    /// A set of `target` records through the junction table `through`, whose column
    /// `foreign_key` references this entity and `target_key` the target.
    pub fn many_to_many(
        name: impl Into<String>,
        target: impl Into<String>,
        through: impl Into<String>,
        foreign_key: impl Into<String>,
        target_key: impl Into<String>,
    ) -> Relation {
        Relation {
            through: Some(through.into()),
            target_key: Some(target_key.into()),
            ..Relation::children(name, target, foreign_key)
        }
    }

    /// Edited inside the parent's form and written with it; `delete`: children a write
    /// leaves out are deleted.
    pub fn inline(mut self, delete: bool) -> Relation {
        self.inline = true;
        self.inline_delete = delete;
        self
    }

    pub fn inline_max(mut self, n: u64) -> Relation {
        self.inline_max = Some(n);
        self
    }

    pub fn display(mut self, field: impl Into<String>) -> Relation {
        self.display = Some(field.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Relation {
        self.label = label.into();
        self
    }

    pub fn is_many_to_many(&self) -> bool {
        self.through.is_some()
    }

    /// A many-to-many relation's tables and columns (always there once the schema is
    /// checked).
    pub fn junction(&self) -> Option<&Junction> {
        self.junction.as_deref()
    }

    /// The type of the keys a many-to-many relation holds: the target's key type.
    pub fn key_type(&self) -> FieldType {
        self.junction
            .as_ref()
            .map_or(FieldType::Integer, |j| j.member.value_type())
    }
}
