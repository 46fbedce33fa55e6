-- The demo's blog schema (PostgreSQL). Same tables as ../sqlite and ../mysql.
CREATE TYPE post_status AS ENUM ('draft', 'published', 'archived');

CREATE TABLE authors (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(200) NOT NULL UNIQUE,
    bio TEXT,
    topics TEXT[] CHECK (topics <@ ARRAY['databases', 'compilers', 'networks', 'systems']),
    birth_date DATE,
    website VARCHAR(200),
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE tags (
    id SERIAL PRIMARY KEY,
    name VARCHAR(50) NOT NULL UNIQUE
);

CREATE TABLE posts (
    id SERIAL PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    body TEXT,
    status post_status NOT NULL DEFAULT 'draft',
    author_id INTEGER NOT NULL REFERENCES authors (id),
    tag_id INTEGER REFERENCES tags (id),
    views INTEGER NOT NULL DEFAULT 0,
    rating NUMERIC(3, 1),
    published_at TIMESTAMPTZ,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX posts_author_id ON posts (author_id);
CREATE INDEX posts_published_at ON posts (published_at);
CREATE INDEX posts_status ON posts (status);

CREATE TABLE comments (
    id SERIAL PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_name VARCHAR(100) NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX comments_post_id ON comments (post_id);

-- Tags of a post, many-to-many (the post's `tag_id` is its main tag).
CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_id)
);
CREATE INDEX post_tags_tag_id ON post_tags (tag_id);
