-- autoadmin's saved views: a list's state under a name, per user, maybe shared with a role.
CREATE TABLE IF NOT EXISTS autoadmin_views (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner VARCHAR(200),
  entity VARCHAR(200) NOT NULL,
  name VARCHAR(200) NOT NULL,
  shared_with VARCHAR(200),
  state JSON NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS autoadmin_views_name ON autoadmin_views (owner, entity, name);
