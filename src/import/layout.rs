//! Which field each column of a file goes to: the header row read against the entity, with
//! the client's `mapping` first, then each column's name matched to a field's or a
//! many-to-many relation's name or label, case-insensitively. A column that matches nothing
//! is refused (its values would be lost quietly), unless the mapping leaves it out.

use crate::query::{ImportMode, ImportOptions};
use crate::schema::Entity;

/// Where a column's cells go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A field (an index into `entity.fields`).
    Field(usize),
    /// A many-to-many relation (an index into `entity.relations`).
    Set(usize),
    /// Nowhere: the mapping leaves the column out, or its field is the database's to fill
    /// (a read-only field, as an export has).
    Skip,
}

/// The columns of a file, in order: each one's name and where its cells go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub columns: Vec<(String, Target)>,
}

impl Layout {
    /// Reads the header row; the error says which columns are wrong and how to map them.
    pub fn new(
        entity: &Entity,
        header: &[String],
        options: &ImportOptions,
    ) -> Result<Layout, String> {
        let names: Vec<String> = header.iter().map(|n| n.trim().to_owned()).collect();
        for (column, _) in &options.mapping {
            if !names.iter().any(|n| n == column) {
                return Err(format!(
                    "the mapping names the column \"{column}\", which the header row does not \
                     have (its columns: {})",
                    quoted(&names)
                ));
            }
        }
        let mut columns = Vec::with_capacity(names.len());
        let mut unmatched = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let mapped = options.mapping.iter().find(|(column, _)| column == name);
            let target = match mapped {
                Some((_, None)) => Some(Target::Skip),
                Some((_, Some(field))) => target_named(entity, field, false),
                None => target_named(entity, name, true),
            };
            match target {
                Some(target) => columns.push((name.clone(), target)),
                None if name.is_empty() => {
                    unmatched.push(format!("column {} (no name)", position + 1))
                }
                None => unmatched.push(format!("\"{name}\"")),
            }
        }
        if !unmatched.is_empty() {
            return Err(format!(
                "{} of the header row match no field of \"{}\": map them to a field, or to null \
                 to leave them out, with mapping={{\"column\": \"field\"}}",
                unmatched.join(", "),
                entity.name
            ));
        }
        for (i, (name, target)) in columns.iter().enumerate() {
            if *target == Target::Skip {
                continue;
            }
            if let Some((other, _)) = columns[..i].iter().find(|(_, t)| t == target) {
                return Err(format!(
                    "the columns \"{other}\" and \"{name}\" both go to {}: map one of them \
                     elsewhere or to null",
                    describe(entity, target)
                ));
            }
        }
        let layout = Layout { columns };
        if options.mode != ImportMode::Insert {
            let key = entity.find_field(&options.key).map(|f| &f.name);
            let has_key = layout.columns.iter().any(
                |(_, t)| matches!(t, Target::Field(i) if Some(&entity.fields[*i].name) == key),
            );
            if !has_key {
                return Err(format!(
                    "each row's record is found by \"{}\" (mode={}), but no column holds it",
                    options.key,
                    options.mode.name()
                ));
            }
        }
        Ok(layout)
    }
}

/// The field or relation `name` names: exactly, or (`by_label`) also by its label, case
/// aside. Read-only fields take nothing, except the key (which finds records).
fn target_named(entity: &Entity, name: &str, by_label: bool) -> Option<Target> {
    // A field hidden from the importer is not there for them.
    let exact = entity
        .fields
        .iter()
        .position(|f| f.name == name && !f.hidden);
    let loose = || {
        entity.fields.iter().position(|f| {
            !f.hidden
                && (f.name.eq_ignore_ascii_case(name)
                    || (by_label && f.label.to_lowercase() == name.to_lowercase()))
        })
    };
    if let Some(index) = exact.or_else(|| by_label.then(loose).flatten()) {
        let field = &entity.fields[index];
        return Some(if field.read_only && field.name != entity.primary_key {
            Target::Skip
        } else {
            Target::Field(index)
        });
    }
    entity
        .relations
        .iter()
        .position(|r| {
            r.through.is_some()
                && (r.name == name
                    || (by_label
                        && (r.name.eq_ignore_ascii_case(name)
                            || r.label.to_lowercase() == name.to_lowercase())))
        })
        .map(Target::Set)
}

fn describe(entity: &Entity, target: &Target) -> String {
    match target {
        Target::Field(i) => format!("the field \"{}\"", entity.fields[*i].name),
        Target::Set(i) => format!("the relation \"{}\"", entity.relations[*i].name),
        Target::Skip => "nowhere".into(),
    }
}

fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse_import;
    use crate::schema::{Entity, Field};

    fn posts() -> Entity {
        Entity::new("posts")
            .field(Field::integer("id"))
            .field(Field::string("title").label("Headline").required())
            .field(Field::string("slug").unique())
            .field(Field::datetime("created_at").read_only())
            .many_to_many("tags", "tags", "post_tags", "post_id", "tag_id")
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn layout(names: &[&str], query: &str) -> Result<Layout, String> {
        let entity = posts();
        let options = parse_import(&entity, query).unwrap();
        Layout::new(&entity, &header(names), &options)
    }

    #[test]
    fn columns_match_names_and_labels_case_aside() {
        let found = layout(&["ID", "headline", " Slug ", "Created at", "Tags"], "").unwrap();
        let targets: Vec<Target> = found.columns.into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            targets,
            [
                Target::Field(0),
                Target::Field(1),
                Target::Field(2),
                Target::Skip,
                Target::Set(0)
            ]
        );
    }

    #[test]
    fn the_mapping_comes_first() {
        let query = "mapping=%7B%22Name%22%3A%22title%22%2C%22title%22%3Anull%7D";
        let found = layout(&["Name", "title"], query).unwrap();
        assert_eq!(found.columns[0].1, Target::Field(1));
        assert_eq!(found.columns[1].1, Target::Skip);
    }

    #[test]
    fn what_cannot_be_placed_is_refused_by_name() {
        let cases: [(&[&str], &str, &str); 5] = [
            (&["title", "Notes", ""], "", "\"Notes\", column 3 (no name)"),
            (&["title", "Headline"], "", "both go to the field \"title\""),
            (&["title"], "mapping=%7B%22Nope%22%3Anull%7D", "\"Nope\""),
            (
                &["title"],
                "mode=update",
                "found by \"id\" (mode=update), but no column",
            ),
            (&["title", "id"], "mode=upsert&key=slug", "by \"slug\""),
        ];
        for (names, query, expected) in cases {
            let error = layout(names, query).unwrap_err();
            assert!(error.contains(expected), "{names:?} {query}: {error}");
        }
    }
}
