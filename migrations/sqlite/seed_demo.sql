-- Demo data: 50 authors, 12 tags, 1,000 posts (0 to 3 tags each), 3,000 comments. Deterministic.
INSERT INTO authors (name, email, bio, topics, birth_date, website, active)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50),
first(k, name) AS (VALUES (0, 'Ada'), (1, 'Alan'), (2, 'Grace'), (3, 'Edsger'), (4, 'Barbara'),
    (5, 'Donald'), (6, 'Frances'), (7, 'Ken'), (8, 'Radia'), (9, 'Niklaus')),
last(k, name) AS (VALUES (0, 'Lovelace'), (1, 'Turing'), (2, 'Hopper'), (3, 'Dijkstra'),
    (4, 'Liskov'), (5, 'Knuth'), (6, 'Allen'), (7, 'Thompson'), (8, 'Perlman'))
SELECT first.name || ' ' || last.name,
       lower(first.name) || '.' || lower(last.name) || i || '@example.com',
       'Writes about ' || CASE i % 4 WHEN 0 THEN 'databases' WHEN 1 THEN 'compilers'
           WHEN 2 THEN 'networks' ELSE 'operating systems' END || '.',
       CASE i % 4 WHEN 0 THEN '["databases"]' WHEN 1 THEN '["compilers", "systems"]'
           WHEN 2 THEN '["networks"]' ELSE '["databases", "systems"]' END,
       date('1950-01-01', '+' || (i * 397) || ' days'),
       CASE WHEN i % 3 = 0 THEN 'https://example.com/~' || i END,
       i % 7 <> 0
FROM n JOIN first ON first.k = i % 10 JOIN last ON last.k = i % 9;

INSERT INTO tags (name) VALUES ('rust'), ('sql'), ('postgres'), ('mysql'), ('sqlite'), ('web'),
    ('security'), ('performance'), ('testing'), ('design'), ('ops'), ('release');

INSERT INTO posts (title, body, status, author_id, tag_id, views, rating, published_at, created_at)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000),
adj(k, word) AS (VALUES (0, 'Fast'), (1, 'Safe'), (2, 'Simple'), (3, 'Hidden'), (4, 'Practical'),
    (5, 'Lazy'), (6, 'Concurrent'), (7, 'Typed')),
noun(k, word) AS (VALUES (0, 'queries'), (1, 'indexes'), (2, 'migrations'), (3, 'transactions'),
    (4, 'caches'), (5, 'schemas'), (6, 'joins'), (7, 'cursors'), (8, 'locks'), (9, 'backups'))
SELECT adj.word || ' ' || noun.word || ' #' || i,
       'Part ' || i || ' of a long series on ' || noun.word || '. ' ||
           'It explains, with examples, why ' || lower(adj.word) || ' ' || noun.word || ' matter.',
       CASE WHEN i % 10 < 6 THEN 'published' WHEN i % 10 < 9 THEN 'draft' ELSE 'archived' END,
       1 + (i * 7) % 50,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 12 END,
       (i * 37) % 5000,
       CASE WHEN i % 4 = 0 THEN NULL ELSE ((i * 13) % 41) / 10.0 + 1 END,
       CASE WHEN i % 10 < 6 THEN datetime('2023-01-01 08:00:00', '+' || (i * 613) || ' minutes') END,
       datetime('2022-12-01 08:00:00', '+' || (i * 600) || ' minutes')
FROM n JOIN adj ON adj.k = i % 8 JOIN noun ON noun.k = i % 10;

INSERT INTO comments (post_id, author_name, body, created_at)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
SELECT 1 + (i * 11) % 1000,
       CASE i % 5 WHEN 0 THEN 'reader' WHEN 1 THEN 'Sam' WHEN 2 THEN 'Kim' WHEN 3 THEN 'Lee' ELSE 'Alex' END,
       CASE i % 3 WHEN 0 THEN 'Great post, thanks!' WHEN 1 THEN 'I disagree with the second part.'
           ELSE 'Could you write about <b>indexes</b> next?' END,
       datetime('2023-02-01 09:00:00', '+' || (i * 97) || ' minutes')
FROM n;

-- Up to three tags per post: post i has tags i % 12, (i * 5) % 12 and (i * 7) % 12 (each
-- once), as many as i % 4.
INSERT INTO post_tags (post_id, tag_id)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000),
pick(k, step) AS (VALUES (1, 1), (2, 5), (3, 7))
SELECT DISTINCT n.i, 1 + (n.i * pick.step) % 12
FROM n JOIN pick ON pick.k <= n.i % 4;
