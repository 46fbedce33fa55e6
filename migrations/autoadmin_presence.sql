-- Who has a record open in the admin app (live updates): one row per open form, kept alive
-- by the form every few seconds, gone when it closes or its time runs out. Every instance
-- over the database sees the same rows. The same on every backend (MySQL's table is given
-- utf8mb4 after the closing parenthesis, by Dialect::presence_table).
CREATE TABLE IF NOT EXISTS autoadmin_presence (
  entity VARCHAR(200) NOT NULL,
  record_id VARCHAR(200) NOT NULL,
  viewer VARCHAR(64) NOT NULL,
  username VARCHAR(200),
  seen_until BIGINT NOT NULL,
  PRIMARY KEY (entity, record_id, viewer)
)
