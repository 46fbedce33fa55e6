//! `POST /{entity}/import` in the document: the file as a CSV or XLSX body or a multipart
//! `file` part, the options with the values they take, and the report; and the imports as
//! jobs (`/_imports/{id}`).

use serde_json::{Value as Json, json};

use super::{errors, json_content};
use crate::query::{IMPORT_DELIMITERS, ImportMode, OnError};
use crate::schema::{Entity, FieldType};

/// The import of `entity`.
pub(super) fn import(entity: &Entity) -> Json {
    let name = &entity.name;
    let targets: Vec<Json> = entity
        .fields
        .iter()
        .filter(|f| !f.hidden && (!f.read_only || f.name == entity.primary_key))
        .map(|f| json!(f.name))
        .chain(entity.sets().map(|r| json!(r.name)))
        .chain([Json::Null])
        .collect();
    let keys: Vec<&str> = entity
        .fields
        .iter()
        .filter(|f| {
            f.name == entity.primary_key
                || (f.unique && f.is_readable() && f.field_type != FieldType::Password)
        })
        .map(|f| f.name.as_str())
        .collect();
    let delimiters: Vec<&str> = IMPORT_DELIMITERS.iter().map(|(n, _)| *n).collect();
    let parameters = json!([
        {"name": "mode", "in": "query", "required": false,
         "schema": {"type": "string", "enum": ImportMode::NAMES, "default": "insert"},
         "description": "insert: a new record per row. update: each row updates the record its key finds (a row that finds none fails). upsert: updates the record the key finds, else inserts."},
        {"name": "key", "in": "query", "required": false,
         "schema": {"type": "string", "enum": keys},
         "description": "With mode=update or upsert: the field that finds each row's record, the primary key (default) or a unique field; its column must be in the file."},
        {"name": "on_error", "in": "query", "required": false,
         "schema": {"type": "string", "enum": OnError::NAMES, "default": "abort"},
         "description": "abort: all rows or none, in one transaction (422 with the report when a row fails). skip: the valid rows are written, the others reported."},
        {"name": "dry_run", "in": "query", "required": false,
         "schema": {"type": "string", "enum": ["true", "false"], "default": "false"},
         "description": "true: every row is checked and written in a transaction that is rolled back; the report says what would happen."},
        {"name": "mapping", "in": "query", "required": false,
         "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {"enum": targets}}}},
         "description": "Column (as the header row names it) → field or many-to-many relation, or null to leave the column out. Other columns are matched by field name or label, case aside; a column that matches nothing is refused."},
        {"name": "preview", "in": "query", "required": false,
         "schema": {"type": "integer", "minimum": 1, "maximum": crate::query::MAX_PREVIEW},
         "description": "Only the first rows are read and checked (the rest of the body is taken and dropped, cut anywhere), nothing is written, and the report's preview lists them as they would be stored."},
        {"name": "wait", "in": "query", "required": false,
         "schema": {"type": "integer", "minimum": 0, "maximum": crate::query::MAX_WAIT_SECS, "default": 10},
         "description": "Seconds the request waits, once the file has arrived, for the import to end; then 202 with the job (Location: /_imports/{id}) while it goes on."},
        {"name": "delimiter", "in": "query", "required": false,
         "schema": {"type": "string", "enum": delimiters},
         "description": "A CSV file's cell separator; by default the one the header row uses most (comma, semicolon or tab)."},
        {"name": "sheet", "in": "query", "required": false,
         "schema": {"type": "string", "minLength": 1, "pattern": "\\S"},
         "description": "A workbook's sheet, by name (400 when it has none of that name); by default the first."},
    ]);
    let workbook = json!({"type": "string", "format": "binary",
        "description": "An Excel workbook (XLSX): the sheet's first row names the columns, as in a CSV file. Cells are read as an export writes them (whole numbers without a fraction, dates YYYY-MM-DD, dates with times in UTC, times HH:MM:SS, booleans true/false; a formula's value, never the formula). Kept on disk until it has arrived, then refused before it is read if it would unpack to more than 4 GiB, holds shared strings of more than 128 MiB (413), has more than 10,000 parts, a part larger than it says or a text longer than 1 MiB (400)."});
    let file = json!({"type": "string",
        "description": "A CSV file (RFC 4180; UTF-8, with or without a byte order mark): a header row naming the columns, then a row per record. Empty cells are null (or the field's default); references and many-to-many members by id or by the value that names their record; several members or choices separated by ;. At most max_import_bytes bytes (413 beyond)."});
    let mut responses = errors(&[
        "400", "401", "403", "404", "405", "409", "413", "415", "503",
    ]);
    responses.insert("202".into(), json!({
        "description": "The import outlasted wait once its file had arrived: it goes on; the body is its job, Location its address.",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "The job: /_imports/{id}."}},
        "content": json_content(job_schema()),
    }));
    responses.insert("200".into(), json!({
        "description": "The import's report (an abort import with no failed row, a skip import, or a dry run).",
        "content": json_content(report_schema()),
    }));
    responses.insert("422".into(), json!({
        "description": "An abort import with a failed row: nothing was written; the report lists the rows' errors.",
        "content": json_content(json!({"allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"type": "object", "properties": {"report": report_schema()}, "required": ["report"]},
        ]})),
    }));
    json!({"post": {
        "operationId": format!("import_{name}"),
        "summary": format!("Import {name} from a CSV file or an Excel workbook"),
        "description": "Each row is checked as a POST (or a PATCH of the record its key finds) is, read as the file arrives. Needs the add permission (insert, upsert) and the edit permission (update, upsert). Each change is audited with the cause \"import\".",
        "parameters": parameters,
        "requestBody": {"required": true, "content": {
            "text/csv": {"schema": file},
            crate::xlsx::MEDIA_TYPE: {"schema": workbook},
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                    "description": "A CSV file or an Excel workbook (known by its first bytes)."}}}},
        }},
        "responses": responses,
    }})
}

/// `GET`, `DELETE /_imports/{id}` and `GET /_imports/{id}/rejected.csv`.
pub(super) fn jobs(paths: &mut serde_json::Map<String, Json>) {
    let id = json!([{"name": "id", "in": "path", "required": true,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$"},
        "description": "The import's id: the X-Request-Id of its request."}]);
    let mut get = errors(&["400", "401", "404", "503"]);
    get.insert(
        "200".into(),
        json!({"description": "How the import goes, or how it ended.",
        "content": json_content(job_schema())}),
    );
    let mut cancel = errors(&["400", "401", "404", "503"]);
    cancel.insert("202".into(), json!({"description": "The import is asked to stop: an abort import rolls back whole, a skip import keeps the batches it committed.",
        "content": json_content(job_schema())}));
    cancel.insert(
        "409".into(),
        json!({"description": "The import has ended: nothing to cancel.",
        "content": json_content(json!({"$ref": "#/components/schemas/Error"}))}),
    );
    let mut list = errors(&["400", "401", "503"]);
    list.insert("200".into(), json!({"description": "The latest imports the user may see (their own, and those of nobody), newest first, each as GET /_imports/{id} shows it but without its report.",
        "content": json_content(json!({"type": "array", "items": job_schema()}))}));
    paths.insert("/_imports".into(), json!({
        "get": {"operationId": "list_imports", "summary": "The latest imports",
            "parameters": [
                {"name": "entity", "in": "query", "required": false, "schema": {"type": "string"},
                 "description": "Only the imports into this entity."},
                {"name": "limit", "in": "query", "required": false,
                 "schema": {"type": "integer", "minimum": 1, "maximum": crate::query::MAX_LISTED_IMPORTS, "default": 20}},
            ],
            "responses": list},
    }));
    paths.insert("/_imports/{id}".into(), json!({
        "get": {"operationId": "get_import", "summary": "An import: its counts as it runs, its report once it has ended",
            "parameters": id, "responses": get},
        "delete": {"operationId": "cancel_import", "summary": "Cancel a running import",
            "parameters": id, "responses": cancel},
    }));
    let mut rejected = errors(&["400", "401", "404", "503"]);
    rejected.insert("200".into(), json!({"description": "The rows the import rejected, as they were read (the file's header first), to fix and import again.",
        "content": {"text/csv": {"schema": {"type": "string"}}}}));
    let mut revert = errors(&["400", "401", "403", "404", "503"]);
    revert.insert("200".into(), json!({"description": "What the import wrote is undone, in one transaction: the records it created deleted (with what their delete takes), those it updated given their old values back; the import's status is now reverted.",
        "content": json_content(json!({"type": "object", "required": ["reverted", "import"], "properties": {
            "reverted": {"type": "object", "required": ["deleted", "restored", "gone"], "properties": {
                "deleted": {"type": "integer", "minimum": 0}, "restored": {"type": "integer", "minimum": 0},
                "gone": {"type": "integer", "minimum": 0, "description": "Records it created that were deleted since."}}},
            "import": job_schema()}}))}));
    revert.insert("409".into(), json!({"description": "Nothing was undone: the import is running or reverted already, or a record it wrote has changed since (named).",
        "content": json_content(json!({"$ref": "#/components/schemas/Error"}))}));
    paths.insert("/_imports/{id}/revert".into(), json!({
        "post": {"operationId": "revert_import", "summary": "Undo what an ended import wrote, from the audit log",
            "parameters": id, "responses": revert},
    }));
    paths.insert("/_imports/{id}/rejected.csv".into(), json!({
        "get": {"operationId": "get_import_rejected", "summary": "The rows an import rejected, as CSV",
            "parameters": id, "responses": rejected},
    }));
}

fn job_schema() -> Json {
    let count = json!({"type": "integer", "minimum": 0});
    json!({"type": "object", "required": ["id", "entity", "status", "rows", "inserted", "updated", "unchanged", "failed"],
    "properties": {
        "id": {"type": "string"}, "entity": {"type": "string"},
        "status": {"type": "string", "enum": ["running", "done", "failed", "cancelled", "reverted"]},
        "rows": count, "inserted": count, "updated": count, "unchanged": count, "failed": count,
        "started_at": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"]},
        "cancelling": {"type": "boolean"},
        "report": {"type": "object", "description": "Once it has ended: the report (stopped says why it ended early)."},
        "rejected": {"type": "string", "description": "Where its rejected rows are, when it has some."},
    }})
}

fn report_schema() -> Json {
    let count = json!({"type": "integer", "minimum": 0});
    json!({"type": "object",
    "required": ["mode", "on_error", "dry_run", "rows", "inserted", "updated", "unchanged", "failed", "committed", "errors", "more_errors"],
    "properties": {
        "mode": {"type": "string", "enum": ImportMode::NAMES},
        "on_error": {"type": "string", "enum": OnError::NAMES},
        "dry_run": {"type": "boolean"},
        "rows": count, "inserted": count, "updated": count, "unchanged": count, "failed": count,
        "committed": {"type": "boolean", "description": "Whether the rows counted as inserted and updated are stored."},
        "errors": {"type": "array", "maxItems": crate::import::MAX_ERRORS, "items": {"type": "object",
            "required": ["row", "message"],
            "properties": {
                "row": {"type": "integer", "minimum": 2, "description": "As a spreadsheet numbers it: the header is row 1."},
                "column": {"type": "string"}, "field": {"type": "string"}, "message": {"type": "string"},
            }}},
        "more_errors": count,
        "stopped": {"type": "string", "description": "Why the import stopped before the end of its file."},
        "columns": {"type": "array", "items": {"type": "string"}, "description": "With preview: the header row's cells, as read (also in the 400 of a header that is refused)."},
        "preview": {"type": "array", "items": {"type": "object", "required": ["row", "action", "record"],
            "properties": {"row": {"type": "integer"}, "action": {"type": "string", "enum": ["insert", "update", "unchanged"]}, "record": {"type": "object"}}}},
    }})
}
