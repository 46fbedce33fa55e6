-- autoadmin's audit log: one row per change, written in the change's transaction.
CREATE TABLE IF NOT EXISTS autoadmin_audit (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(6) NOT NULL,
  actor VARCHAR(200),
  entity VARCHAR(200) NOT NULL,
  record_id VARCHAR(200) NOT NULL,
  action VARCHAR(20) NOT NULL,
  old_values JSON,
  new_values JSON,
  request_id VARCHAR(64),
  cause VARCHAR(250),
  INDEX autoadmin_audit_record (entity, record_id),
  INDEX autoadmin_audit_request (request_id)
) DEFAULT CHARSET = utf8mb4;
