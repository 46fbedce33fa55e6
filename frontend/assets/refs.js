// The records that reference and many-to-many fields point to, named by their display field:
// one request per field for all the keys at once (a page of rows, a record, a page of its
// history, a list's filters, a dashboard's groups), never one per key.

/**
 * field name → Map key → target record, for the reference and many-to-many `fields` that
 * have a display field, with the keys `keysOf(field)` gives. A field whose request fails maps
 * to an empty Map: its keys are shown instead.
 */
export async function fieldRefs(fields, keysOf, ctx) {
  const refs = new Map();
  const linked = fields.filter((f) => f && (f.type === 'reference' || f.type === 'many') && f.display && ctx.configOf(f.target));
  await Promise.all(linked.map(async (field) => {
    const keys = keysOf(field).flat().filter((k) => k !== null && k !== undefined);
    if (!keys.length) return;
    const target = ctx.configOf(field.target);
    try {
      refs.set(field.name, await ctx.api.byKeys(target.name, target.primary_key, keys));
    } catch {
      refs.set(field.name, new Map());
    }
  }));
  return refs;
}

/** The records the reference and many-to-many columns of a page of `rows` show. */
export function columnRefs(columns, rows, ctx) {
  return fieldRefs(columns, (field) => rows.map((row) => row[field.name]), ctx);
}
