//! A field of an entity: its type ([`FieldType`]) and its rules, with the builder methods
//! that declare them in code.

use std::fmt;

use super::default_label;

/// Every field type a descriptor may name. The TOML spelling is the lower-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    Integer,
    Float,
    Decimal,
    String,
    Text,
    Boolean,
    Date,
    Datetime,
    Time,
    Uuid,
    Json,
    Email,
    Url,
    Choice,
    /// A set of values from `choices` (a PostgreSQL array, a MySQL SET or a JSON array).
    MultiChoice,
    Reference,
    Password,
}

impl FieldType {
    pub const ALL: [FieldType; 17] = [
        FieldType::Integer,
        FieldType::Float,
        FieldType::Decimal,
        FieldType::String,
        FieldType::Text,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Time,
        FieldType::Uuid,
        FieldType::Json,
        FieldType::Email,
        FieldType::Url,
        FieldType::Choice,
        FieldType::MultiChoice,
        FieldType::Reference,
        FieldType::Password,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Decimal => "decimal",
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Time => "time",
            FieldType::Uuid => "uuid",
            FieldType::Json => "json",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Choice => "choice",
            FieldType::MultiChoice => "multichoice",
            FieldType::Reference => "reference",
            FieldType::Password => "password",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Types whose values are text, so that length, pattern and substring rules apply.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Text
                | FieldType::Email
                | FieldType::Url
                | FieldType::Choice
                | FieldType::Password
        )
    }

    /// Types with an order that `min`/`max` rules can check numerically.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Float | FieldType::Decimal
        )
    }

    /// The types a primary key may have.
    pub fn can_be_key(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::String | FieldType::Uuid
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column of an entity, with its validation rules.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub column: String,
    pub field_type: FieldType,
    pub label: String,
    pub required: bool,
    /// `None` means "nullable unless required".
    pub nullable: Option<bool>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<Pattern>,
    pub choices: Vec<String>,
    pub read_only: bool,
    /// Hidden from the user the schema is restricted for (see `access.rs`): neither read nor
    /// written.
    pub hidden: bool,
    /// Read-only for the user the schema is restricted for: a write that changes it is
    /// refused, where a `read_only` field's value is ignored.
    pub locked: bool,
    pub default: Option<serde_json::Value>,
    pub unique: bool,
    /// With `required`: an empty (or blank) text is a value (Django's `blank=True`), so the
    /// field only may not be null. Without it, a required text must hold more than spaces.
    pub blank: bool,
    /// How a text is written: `"markdown"` (the app edits it with a preview and shows it
    /// rendered). `None`: plain text.
    pub format: Option<String>,
    /// For references: the target entity's name and the field shown instead of the id.
    pub target: Option<String>,
    pub display: Option<String>,
    /// For a primary key: the database generates it (auto-increment), so a client value is
    /// ignored. `None` means "integer keys are generated, others are not".
    pub generated: Option<bool>,
    /// For references, the type of the target's primary key; resolved by [`Schema::new`].
    pub(crate) key_type: Option<FieldType>,
    /// For references with a display field: where that value lives; resolved by
    /// [`Schema::new`].
    pub(crate) shown: Option<Box<Shown>>,
}

/// The value a reference shows (its target's display field) and where it lives, so that a
/// list can sort by it: `LEFT JOIN table ON table.key_column = reference`.
#[derive(Clone, Debug)]
pub struct Shown {
    pub table: String,
    pub key_column: String,
    pub field: Field,
}

/// A compiled `pattern` rule; keeps its source for messages and the SPA's config.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub source: String,
    pub regex: regex::Regex,
}

impl Field {
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Field {
        let name = name.into();
        Field {
            column: name.clone(),
            label: default_label(&name),
            name,
            field_type,
            required: false,
            nullable: None,
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            pattern: None,
            choices: Vec::new(),
            read_only: false,
            hidden: false,
            locked: false,
            default: None,
            unique: false,
            blank: false,
            format: None,
            target: None,
            display: None,
            generated: None,
            key_type: None,
            shown: None,
        }
    }

    pub fn integer(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Integer)
    }
    pub fn float(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Float)
    }
    pub fn decimal(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Decimal)
    }
    pub fn string(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::String)
    }
    pub fn text(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Text)
    }
    pub fn boolean(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Boolean)
    }
    pub fn date(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Date)
    }
    pub fn datetime(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Datetime)
    }
    pub fn time(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Time)
    }
    pub fn uuid(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Uuid)
    }
    pub fn json(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Json)
    }
    pub fn email(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Email)
    }
    pub fn url(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Url)
    }
    pub fn password(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Password)
    }
    pub fn choice<S: Into<String>>(
        name: impl Into<String>,
        choices: impl IntoIterator<Item = S>,
    ) -> Field {
        let mut field = Field::new(name, FieldType::Choice);
        field.choices = choices.into_iter().map(Into::into).collect();
        field
    }
    /// A set of values from `choices`.
    pub fn multichoice<S: Into<String>>(
        name: impl Into<String>,
        choices: impl IntoIterator<Item = S>,
    ) -> Field {
        let mut field = Field::new(name, FieldType::MultiChoice);
        field.choices = choices.into_iter().map(Into::into).collect();
        field
    }
    pub fn reference(name: impl Into<String>, target: impl Into<String>) -> Field {
        let mut field = Field::new(name, FieldType::Reference);
        field.target = Some(target.into());
        field
    }

    pub fn column(mut self, column: impl Into<String>) -> Field {
        self.column = column.into();
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Field {
        self.label = label.into();
        self
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn nullable(mut self, nullable: bool) -> Field {
        self.nullable = Some(nullable);
        self
    }
    pub fn min_length(mut self, n: u64) -> Field {
        self.min_length = Some(n);
        self
    }
    pub fn max_length(mut self, n: u64) -> Field {
        self.max_length = Some(n);
        self
    }
    pub fn min(mut self, n: f64) -> Field {
        self.min = Some(n);
        self
    }
    pub fn max(mut self, n: f64) -> Field {
        self.max = Some(n);
        self
    }
    /// Panics on an invalid regex: a builder call is code, and a bad pattern in code is a bug.
    /// TOML patterns are checked by [`load_str`] and reported as errors instead.
    pub fn pattern(mut self, pattern: &str) -> Field {
        let regex = regex::Regex::new(pattern).expect("invalid pattern in Field::pattern");
        self.pattern = Some(Pattern {
            source: pattern.to_owned(),
            regex,
        });
        self
    }
    /// `"markdown"`: see [`Field::format`].
    pub fn format(mut self, format: impl Into<String>) -> Field {
        self.format = Some(format.into());
        self
    }
    pub fn read_only(mut self) -> Field {
        self.read_only = true;
        self
    }
    pub fn default_value(mut self, value: serde_json::Value) -> Field {
        self.default = Some(value);
        self
    }
    /// A required text that may be empty (see [`Field::blank`]).
    pub fn blank(mut self) -> Field {
        self.blank = true;
        self
    }
    pub fn unique(mut self) -> Field {
        self.unique = true;
        self
    }
    pub fn display(mut self, field: impl Into<String>) -> Field {
        self.display = Some(field.into());
        self
    }
    pub fn generated(mut self, generated: bool) -> Field {
        self.generated = Some(generated);
        self
    }

    pub fn is_nullable(&self) -> bool {
        self.nullable.unwrap_or(!self.required)
    }

    /// Password fields are write-only: never selected, returned, filtered or sorted on; a
    /// hidden field is neither read nor written.
    pub fn is_readable(&self) -> bool {
        self.field_type != FieldType::Password && !self.hidden
    }

    /// For a reference with a display field, that field of its target and where it lives.
    pub fn shown(&self) -> Option<&Shown> {
        self.shown.as_deref()
    }

    /// The type values of this field have: a reference carries its target's key type.
    pub fn value_type(&self) -> FieldType {
        match self.field_type {
            FieldType::Reference => self.key_type.unwrap_or(FieldType::Integer),
            other => other,
        }
    }
}
