//! A row's text cells as the JSON body of a write, read the way an export writes them: an
//! empty cell is null (or empty text where the field takes no null), `true`/`false` (and
//! `yes`/`no`, `1`/`0`) are booleans, a multi-choice or many-to-many cell lists its values
//! separated by `;`, and the `'` an export puts before text a spreadsheet would run as a
//! formula (`'=1+2`) is taken off again. References and many-to-many members stay text here:
//! the db layer finds the records they name, by key or by the value that names them.

use serde_json::{Map, Value as Json};

use super::layout::{Layout, Target};
use crate::schema::{Entity, Field, FieldType};

/// What the cells of one row say: the body (references and members still as text), and
/// the cells that cannot be read, as (column index, message).
pub struct Cells {
    pub body: Map<String, Json>,
    pub errors: Vec<(Option<usize>, String)>,
}

/// Reads a row's cells into a body. A row of more or fewer cells than the header is an
/// error of the row; a row of empty cells is `None` (nothing to import).
pub fn read(entity: &Entity, layout: &Layout, cells: &[String]) -> Option<Cells> {
    if cells.iter().all(|c| c.trim().is_empty()) {
        return None;
    }
    let mut read = Cells {
        body: Map::new(),
        errors: Vec::new(),
    };
    if cells.len() != layout.columns.len() {
        read.errors.push((
            None,
            format!(
                "has {} cells where the header row has {} columns",
                cells.len(),
                layout.columns.len()
            ),
        ));
        return Some(read);
    }
    for (column, ((_, target), cell)) in layout.columns.iter().zip(cells).enumerate() {
        match target {
            Target::Skip => {}
            Target::Field(index) => {
                let field = &entity.fields[*index];
                match value(field, cell) {
                    Ok(Some(json)) => {
                        read.body.insert(field.name.clone(), json);
                    }
                    Ok(None) => {}
                    Err(message) => read.errors.push((Some(column), message)),
                }
            }
            Target::Set(index) => {
                let members = list(cell).into_iter().map(Json::String).collect();
                read.body
                    .insert(entity.relations[*index].name.clone(), Json::Array(members));
            }
        }
    }
    Some(read)
}

/// One cell as the JSON value of `field`, for the write's own checks to judge; `None` for
/// an empty cell of a field that takes no null but has a default (a new record gets the
/// default, a stored one keeps its value).
fn value(field: &Field, cell: &str) -> Result<Option<Json>, String> {
    let trimmed = cell.trim();
    let empty = cell.is_empty() || (trimmed.is_empty() && !field.field_type.is_textual());
    if empty && !field.is_nullable() && field.default.is_some() {
        return Ok(None);
    }
    if empty {
        return Ok(Some(match field.field_type {
            _ if field.is_nullable() => Json::Null,
            FieldType::MultiChoice => Json::Array(Vec::new()),
            t if t.is_textual() => Json::String(String::new()),
            _ => Json::Null,
        }));
    }
    Ok(Some(match field.field_type {
        FieldType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Json::Bool(true),
            "false" | "no" | "0" => Json::Bool(false),
            _ => return Err("must be true or false".into()),
        },
        FieldType::Json => serde_json::from_str(trimmed)
            // An export writes a JSON text as the text itself.
            .unwrap_or_else(|_| Json::String(cell.to_owned())),
        FieldType::MultiChoice => Json::Array(list(cell).into_iter().map(Json::String).collect()),
        FieldType::Reference
        | FieldType::Integer
        | FieldType::Float
        | FieldType::Decimal
        | FieldType::Date
        | FieldType::Datetime
        | FieldType::Time
        | FieldType::Uuid => Json::String(trimmed.to_owned()),
        FieldType::String
        | FieldType::Text
        | FieldType::Email
        | FieldType::Url
        | FieldType::Choice
        | FieldType::Password => Json::String(unneutralised(cell).to_owned()),
    }))
}

/// The values of a cell that lists several, separated by `;`.
fn list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Text without the `'` that an export puts before what a spreadsheet would run.
pub fn unneutralised(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse_import;
    use crate::schema::{Entity, Field};

    fn entity() -> Entity {
        Entity::new("posts")
            .field(Field::integer("id"))
            .field(Field::string("title").required())
            .field(Field::text("body"))
            .field(Field::boolean("published").required())
            .field(
                Field::integer("views")
                    .nullable(false)
                    .default_value(serde_json::json!(0)),
            )
            .field(Field::json("extra"))
            .field(Field::multichoice("colours", ["red", "green"]).required())
            .many_to_many("tags", "tags", "post_tags", "post_id", "tag_id")
    }

    fn read_row(cells: &[&str]) -> Option<Cells> {
        let entity = entity();
        let header: Vec<String> = [
            "id",
            "title",
            "body",
            "published",
            "views",
            "extra",
            "colours",
            "tags",
        ]
        .map(String::from)
        .to_vec();
        let layout = Layout::new(&entity, &header, &parse_import(&entity, "").unwrap()).unwrap();
        let cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        read(&entity, &layout, &cells)
    }

    #[test]
    fn cells_read_as_an_export_writes_them() {
        let row = read_row(&[
            "7",
            "'=1+2",
            "",
            "Yes",
            "5",
            "{\"a\":1}",
            "red; green",
            "rust;sql; ",
        ])
        .unwrap();
        assert!(row.errors.is_empty());
        let body = serde_json::Value::Object(row.body);
        assert_eq!(
            body,
            serde_json::json!({
                "id": "7", "title": "=1+2", "body": null, "published": true, "views": "5",
                "extra": {"a": 1}, "colours": ["red", "green"], "tags": ["rust", "sql"]
            })
        );
    }

    #[test]
    fn empty_cells_of_fields_that_take_no_null() {
        let row = read_row(&["", "", "", "", "", "plain text", "", ""]).unwrap();
        let body = serde_json::Value::Object(row.body);
        assert_eq!(
            body,
            serde_json::json!({
                "id": null, "title": "", "body": null, "published": null,
                "extra": "plain text", "colours": [], "tags": []
            })
        );
    }

    #[test]
    fn bad_cells_and_ragged_rows_are_the_rows_errors() {
        let row = read_row(&["1", "t", "", "maybe", "", "", "red", ""]).unwrap();
        assert_eq!(row.errors, [(Some(3), "must be true or false".to_owned())]);
        let row = read_row(&["1", "t"]).unwrap();
        assert_eq!(
            row.errors[0].1,
            "has 2 cells where the header row has 8 columns"
        );
        assert!(read_row(&["", " ", "", "", "", "", "", ""]).is_none());
    }

    #[test]
    fn only_a_neutralised_formula_loses_its_quote() {
        assert_eq!(unneutralised("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(unneutralised("'-3"), "-3");
        assert_eq!(unneutralised("'quoted'"), "'quoted'");
        assert_eq!(unneutralised("it's"), "it's");
    }
}
