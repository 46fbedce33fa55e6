-- autoadmin's audit log: one row per change, written in the change's transaction.
CREATE TABLE IF NOT EXISTS autoadmin_audit (
  id BIGSERIAL PRIMARY KEY,
  at TIMESTAMPTZ NOT NULL,
  actor VARCHAR(200),
  entity VARCHAR(200) NOT NULL,
  record_id VARCHAR(200) NOT NULL,
  action VARCHAR(20) NOT NULL,
  old_values JSONB,
  new_values JSONB,
  request_id VARCHAR(64),
  cause VARCHAR(250)
);
CREATE INDEX IF NOT EXISTS autoadmin_audit_record ON autoadmin_audit (entity, record_id);
