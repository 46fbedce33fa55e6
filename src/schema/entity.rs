//! An entity: a table (or view) exposed as a resource, its fields, relations, list settings,
//! with the builder methods that declare them in code.

use super::typed::TypedValidator;
use super::{EntityAction, Field, FieldType, Relation, default_label};

/// The name of the audit log's entity (`crate::db` makes it): known here so that documents
/// made from a schema can tell it.
pub const AUDIT_ENTITY: &str = "_audit";

/// How a list's total is counted, from most to least exact (and costly).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CountMode {
    /// No total: paging by next/previous only.
    None,
    /// Exact below the admin's threshold, the database's estimate above it.
    Estimated,
    /// `COUNT(*)`.
    Exact,
}

impl CountMode {
    pub fn name(self) -> &'static str {
        match self {
            CountMode::None => "none",
            CountMode::Estimated => "estimated",
            CountMode::Exact => "exact",
        }
    }

    pub fn from_name(name: &str) -> Option<CountMode> {
        [CountMode::None, CountMode::Estimated, CountMode::Exact]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// Sort direction of a sort key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A view of an entity's list declared with it: a name and the list's state.
#[derive(Clone, Debug, PartialEq)]
pub struct DeclaredView {
    pub name: String,
    pub state: serde_json::Value,
}

/// A table (or view) exposed as a resource at `{base}/api/{name}`.
#[derive(Clone, Debug)]
pub struct Entity {
    pub name: String,
    pub table: String,
    pub primary_key: String,
    pub label: String,
    /// What one record is called ("Post" for "Posts"); `None`: derived from `label`.
    pub label_singular: Option<String>,
    pub per_page: u64,
    pub default_sort: Option<(String, Direction)>,
    pub list_columns: Vec<String>,
    pub search: Vec<String>,
    pub filters: Vec<String>,
    /// Filters the app always shows on the list (each also one of `filters`, or added to them).
    pub pinned_filters: Vec<String>,
    pub read_only: bool,
    /// Rows of a list without paging parameters; `None`: the admin's `max_rows`.
    pub max_rows: Option<u64>,
    /// How totals are counted; a request may ask for less, never more.
    pub count: CountMode,
    /// An integer field the server increments on every write: the record's version (its
    /// ETag). `None`: the version is a hash of the stored record.
    pub version_field: Option<String>,
    pub fields: Vec<Field>,
    pub relations: Vec<Relation>,
    /// Named changes run on one record or a selection (`[[entity.action]]`).
    pub actions: Vec<EntityAction>,
    /// Views of the list every user has (`[[entity.view]]`), beside the ones users save.
    pub views: Vec<DeclaredView>,
    /// Rows belong to users (autoadmin's saved views): only the routes made for it serve it,
    /// each limited to the rows of the user asking; the generic routes answer 404.
    pub per_user: bool,
    pub(crate) typed: Option<TypedValidator>,
    /// In a schema restricted for a user (`access.rs`): the rows they may reach, a filter
    /// object of the list protocol (`{"region": "EU"}`), which every statement on the entity
    /// adds to its conditions. `None`: every row.
    pub row_scope: Option<serde_json::Value>,
}

impl Entity {
    pub fn new(name: impl Into<String>) -> Entity {
        let name = name.into();
        Entity {
            table: name.clone(),
            label: default_label(&name),
            label_singular: None,
            name,
            primary_key: "id".to_owned(),
            per_page: 25,
            default_sort: None,
            list_columns: Vec::new(),
            search: Vec::new(),
            filters: Vec::new(),
            pinned_filters: Vec::new(),
            read_only: false,
            max_rows: None,
            count: CountMode::Exact,
            version_field: None,
            fields: Vec::new(),
            relations: Vec::new(),
            actions: Vec::new(),
            views: Vec::new(),
            per_user: false,
            typed: None,
            row_scope: None,
        }
    }

    pub fn table(mut self, table: impl Into<String>) -> Entity {
        self.table = table.into();
        self
    }
    pub fn primary_key(mut self, field: impl Into<String>) -> Entity {
        self.primary_key = field.into();
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Entity {
        self.label = label.into();
        self
    }
    pub fn label_singular(mut self, label: impl Into<String>) -> Entity {
        self.label_singular = Some(label.into());
        self
    }
    /// What one record is called: `label_singular`, else `label` made singular by the rules
    /// of English plurals (the last word: "Categories" → "Category", "Post tags" → "Post tag").
    pub fn singular(&self) -> String {
        self.label_singular
            .clone()
            .unwrap_or_else(|| super::singular_of(&self.label))
    }
    pub fn per_page(mut self, n: u64) -> Entity {
        self.per_page = n;
        self
    }
    /// `"-published_at"` sorts descending.
    pub fn default_sort(mut self, spec: &str) -> Entity {
        self.default_sort = Some(parse_sort_spec(spec));
        self
    }
    pub fn list_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.list_columns = names.into_iter().map(Into::into).collect();
        self
    }
    pub fn search<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.search = names.into_iter().map(Into::into).collect();
        self
    }
    pub fn filters<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.filters = names.into_iter().map(Into::into).collect();
        self
    }
    pub fn pinned_filters<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.pinned_filters = names.into_iter().map(Into::into).collect();
        self
    }
    /// A view of the list every user has: `state` as a saved view's (`filter`, `q`, `sort`,
    /// `per_page`, `columns`), checked when the admin is built.
    pub fn view(mut self, name: impl Into<String>, state: serde_json::Value) -> Entity {
        self.views.push(DeclaredView {
            name: name.into(),
            state,
        });
        self
    }
    pub(crate) fn per_user(mut self) -> Entity {
        self.per_user = true;
        self
    }
    pub fn read_only(mut self) -> Entity {
        self.read_only = true;
        self
    }
    pub fn count(mut self, mode: CountMode) -> Entity {
        self.count = mode;
        self
    }
    /// Versions records by an integer field that every write increments (see
    /// [`Entity::version_field`]); clients cannot write it.
    pub fn version_field(mut self, field: impl Into<String>) -> Entity {
        self.version_field = Some(field.into());
        self
    }
    pub fn max_rows(mut self, n: u64) -> Entity {
        self.max_rows = Some(n);
        self
    }
    pub fn field(mut self, field: Field) -> Entity {
        self.fields.push(field);
        self
    }
    pub fn action(mut self, action: EntityAction) -> Entity {
        self.actions.push(action);
        self
    }
    /// A one-to-many relation: the records of `target` whose `foreign_key` references this
    /// entity, listed on its detail page.
    pub fn relation(
        self,
        name: impl Into<String>,
        target: impl Into<String>,
        foreign_key: impl Into<String>,
    ) -> Entity {
        self.with_relation(Relation::children(name, target, foreign_key))
    }
    /// A many-to-many relation through the junction table `through` (its column
    /// `foreign_key` references this entity, `target_key` the target): records carry it as
    /// a list of the target's keys.
    pub fn many_to_many(
        self,
        name: impl Into<String>,
        target: impl Into<String>,
        through: impl Into<String>,
        foreign_key: impl Into<String>,
        target_key: impl Into<String>,
    ) -> Entity {
        self.with_relation(Relation::many_to_many(
            name,
            target,
            through,
            foreign_key,
            target_key,
        ))
    }
    pub fn with_relation(mut self, relation: Relation) -> Entity {
        self.relations.push(relation);
        self
    }
    /// Attaches a Rust type whose `validator::Validate` rules run in addition to the field
    /// rules on every create and update.
    pub fn validate_with<T>(mut self) -> Entity
    where
        T: serde::de::DeserializeOwned + validator::Validate + 'static,
    {
        self.typed = Some(TypedValidator::new::<T>());
        self
    }

    /// The many-to-many relations, which records carry as lists of keys.
    pub fn sets(&self) -> impl Iterator<Item = &Relation> {
        self.relations.iter().filter(|r| r.is_many_to_many())
    }

    /// The inline relations, whose children records carry and writes take.
    pub fn inlines(&self) -> impl Iterator<Item = &Relation> {
        self.relations.iter().filter(|r| r.inline)
    }

    /// The many-to-many relation called `name`.
    pub fn find_set(&self, name: &str) -> Option<&Relation> {
        self.sets().find(|r| r.name == name)
    }

    pub fn find_field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// What a sort name orders by: a readable field (`title`: its index, `false`), or the
    /// value a reference shows (`author_id.name`, where `name` is its display field: the
    /// reference's index, `true`). `None` for anything else.
    pub fn sort_target(&self, name: &str) -> Option<(usize, bool)> {
        let readable = |name: &str| {
            self.fields
                .iter()
                .position(|f| f.name == name && f.is_readable())
        };
        match name.split_once('.') {
            None => readable(name).map(|i| (i, false)),
            Some((reference, shown)) => {
                let index = readable(reference)?;
                let field = &self.fields[index];
                (field.field_type == FieldType::Reference
                    && field.display.as_deref() == Some(shown)
                    && field.shown.is_some())
                .then_some((index, true))
            }
        }
    }

    /// Every name a list sorts by: the readable fields, then each reference's shown value.
    pub fn sort_names(&self) -> Vec<String> {
        let fields = self.readable_fields().map(|f| f.name.clone());
        let shown = self.readable_fields().filter_map(|f| {
            f.shown()
                .and(f.display.as_ref())
                .map(|display| format!("{}.{display}", f.name))
        });
        fields.chain(shown).collect()
    }

    /// The field that names a record of this entity: the one references to it display, else
    /// its first text field (of its list columns first), else its key.
    pub fn naming_field(&self, entities: &[Entity]) -> String {
        let shown = entities
            .iter()
            .flat_map(|e| &e.fields)
            .find(|f| f.target.as_deref() == Some(self.name.as_str()) && f.display.is_some())
            .and_then(|f| f.display.clone());
        let textual = |f: &&Field| {
            f.is_readable()
                && f.name != self.primary_key
                && matches!(
                    f.field_type,
                    FieldType::String | FieldType::Text | FieldType::Email
                )
        };
        let listed = self
            .list_columns
            .iter()
            .filter_map(|name| self.find_field(name))
            .find(textual);
        shown
            .or_else(|| listed.map(|f| f.name.clone()))
            .or_else(|| self.fields.iter().find(textual).map(|f| f.name.clone()))
            .unwrap_or_else(|| self.primary_key.clone())
    }

    /// The index of the `version_field` in `fields`.
    pub fn version_index(&self) -> Option<usize> {
        let name = self.version_field.as_deref()?;
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn key_field(&self) -> &Field {
        // Schema::new guarantees the key field exists.
        self.find_field(&self.primary_key)
            .expect("primary key field checked by Schema::new")
    }

    /// Whether the database generates the key, so a client-sent key is ignored on create.
    pub fn key_is_generated(&self) -> bool {
        let key = self.key_field();
        key.generated
            .unwrap_or(key.field_type == FieldType::Integer)
    }

    pub fn readable_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_readable())
    }

    pub(crate) fn typed_validator(&self) -> Option<&TypedValidator> {
        self.typed.as_ref()
    }
}

pub(crate) fn parse_sort_spec(spec: &str) -> (String, Direction) {
    match spec.strip_prefix('-') {
        Some(name) => (name.to_owned(), Direction::Desc),
        None => (spec.to_owned(), Direction::Asc),
    }
}
