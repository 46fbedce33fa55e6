// What the current user may do with an entity: the one place that reads the permissions
// config.json gives (and a read-only entity takes no writes, whatever they say).

/** `action`: 'view', 'add', 'edit' or 'delete'. */
export function can(entity, action) {
  if (!entity) return false;
  if (action !== 'view' && entity.read_only) return false;
  return entity.permissions?.[action] !== false;
}

/** What an API key may do (`GET /_keys`), as [entity, actions] pairs; `*`: every entity. */
export function keyGrants(key) {
  return Object.entries(key.permissions ?? {});
}

/** The body of `POST /_keys`: a key named `name` for `days`, that may `grant` ('read': view
 * what the user may view; 'same': what the user may do). */
export function newKeyBody(name, days, grant) {
  return { name, expires_in_days: days, permissions: grant };
}

/** Whether the user may remove another user's second factor (the admin role's, who helps a
 * user who lost their device). */
export function mayRemoveSecondFactors(user) {
  return Boolean(user?.roles?.includes('admin'));
}
