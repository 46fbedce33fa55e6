-- Creates made with an Idempotency-Key: a key names one create of one entity by one client
-- (scope: SHA-256 of the entity, the principal and the key), claimed in the create's own
-- transaction with the key of the record it made, so that the create sent again (its
-- answer was lost with an instance or a network) answers that record instead of making
-- another; the body's SHA-256 tells a key used again for another create. Kept until
-- expires_at (seconds since 1970).
CREATE TABLE IF NOT EXISTS autoadmin_idempotency (
  scope_sha256 VARCHAR(64) NOT NULL PRIMARY KEY,
  body_sha256 VARCHAR(64) NOT NULL,
  record_key TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
