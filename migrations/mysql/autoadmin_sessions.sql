-- autoadmin's session generations: a token carries its user's generation; logout raises it.
CREATE TABLE IF NOT EXISTS autoadmin_sessions (
  user_name VARCHAR(200) NOT NULL PRIMARY KEY,
  generation BIGINT NOT NULL
);
-- Sessions ended by a logout, until their token would have expired (seconds since 1970).
CREATE TABLE IF NOT EXISTS autoadmin_revoked_sessions (
  session_id VARCHAR(64) NOT NULL PRIMARY KEY,
  user_name VARCHAR(200) NOT NULL,
  expires_at BIGINT NOT NULL
);
-- API keys: a user's named keys, each with an expiry and a subset of its user's permissions
-- (JSON); the secret is kept as its SHA-256 alone (it is shown once). Times in seconds since
-- 1970.
CREATE TABLE IF NOT EXISTS autoadmin_api_keys (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  user_name VARCHAR(200) NOT NULL,
  name VARCHAR(100) NOT NULL,
  secret_sha256 VARCHAR(64) NOT NULL,
  permissions TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
-- Second factors: a user's TOTP secret, sealed with a key derived from the signing secret;
-- confirmed_at is NULL while enrolling; last_step is the time step of the last code taken
-- (no code is good twice); failures counts wrong codes in a row, and after a few no code is
-- tried before next_try_at (a wait that doubles with each). Times in seconds since 1970.
CREATE TABLE IF NOT EXISTS autoadmin_totp (
  user_name VARCHAR(200) NOT NULL PRIMARY KEY,
  secret VARCHAR(200) NOT NULL,
  confirmed_at BIGINT,
  last_step BIGINT NOT NULL,
  failures BIGINT NOT NULL DEFAULT 0,
  next_try_at BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
-- One-time recovery codes, as the SHA-256 of each (they are shown once).
CREATE TABLE IF NOT EXISTS autoadmin_recovery_codes (
  user_name VARCHAR(200) NOT NULL,
  code_sha256 VARCHAR(64) NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (user_name, code_sha256)
);
-- Login counters shared by every instance: attempts per client address and failures per
-- user name, each in a fixed window that began at window_start (seconds since 1970); a
-- counter is named by the SHA-256 of what it counts.
CREATE TABLE IF NOT EXISTS autoadmin_login_attempts (
  counter VARCHAR(64) NOT NULL PRIMARY KEY,
  window_start BIGINT NOT NULL,
  attempts BIGINT NOT NULL
);
