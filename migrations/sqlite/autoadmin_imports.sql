-- autoadmin's imports: a row per import, its counts while it runs (from the instance that
-- runs it) and its report after. Times in milliseconds since 1970.
CREATE TABLE IF NOT EXISTS autoadmin_imports (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  entity VARCHAR(200) NOT NULL,
  owner VARCHAR(200),
  status VARCHAR(20) NOT NULL,
  rows_read BIGINT NOT NULL,
  inserted BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  unchanged BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  cancel_requested INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  report TEXT,
  rejected TEXT
);
