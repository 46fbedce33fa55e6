// The records that reference and many-to-many columns show, for a page of rows: one request
// per column for the whole page (by key), never one per row.

/** column name → Map key → target record, for the reference and many columns of `rows`. */
export async function columnRefs(columns, rows, ctx) {
  const refs = new Map();
  await Promise.all(columns.filter((f) => f.type === 'reference' || f.type === 'many').map(async (field) => {
    const target = ctx.configOf(field.target);
    if (!target || !field.display) return;
    try {
      const keys = rows.flatMap((r) => (field.type === 'many' ? r[field.name] ?? [] : [r[field.name]]));
      refs.set(field.name, await ctx.api.byKeys(target.name, target.primary_key, keys));
    } catch {
      // The keys are shown instead.
      refs.set(field.name, new Map());
    }
  }));
  return refs;
}
