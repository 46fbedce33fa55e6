// What the current user may do with an entity: the one place that reads the permissions
// config.json gives (and a read-only entity takes no writes, whatever they say).

/** `action`: 'view', 'add', 'edit' or 'delete'. */
export function can(entity, action) {
  if (!entity) return false;
  if (action !== 'view' && entity.read_only) return false;
  return entity.permissions?.[action] !== false;
}
