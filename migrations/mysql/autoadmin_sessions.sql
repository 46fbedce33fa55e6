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
