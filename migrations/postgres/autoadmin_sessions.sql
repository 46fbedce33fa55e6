-- autoadmin's session generations: a token carries its user's generation; logout raises it.
CREATE TABLE IF NOT EXISTS autoadmin_sessions (
  user_name VARCHAR(200) NOT NULL PRIMARY KEY,
  generation BIGINT NOT NULL
);
