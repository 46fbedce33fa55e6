-- autoadmin's saved views: a list's state under a name, per user, maybe shared with a role.
CREATE TABLE IF NOT EXISTS autoadmin_views (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  owner VARCHAR(200),
  entity VARCHAR(200) NOT NULL,
  name VARCHAR(200) NOT NULL,
  shared_with VARCHAR(200),
  state JSON NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  UNIQUE INDEX autoadmin_views_name (owner, entity, name)
) DEFAULT CHARSET = utf8mb4;
