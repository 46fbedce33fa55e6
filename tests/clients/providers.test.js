// autoadmin driven by the real react-admin data providers, ra-data-simple-rest and
// ra-data-json-server, with every dataProvider method, against a live server on each
// backend; every result is checked against the database itself.
//
// run.sh starts the servers and sets AUTOADMIN_CLIENT_BACKENDS to a JSON list of
// {name, api, db: {kind, url | name | path}}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import simpleRest from 'ra-data-simple-rest';
import jsonServer from 'ra-data-json-server';
import { rows, scalar } from './db.js';

const backends = JSON.parse(process.env.AUTOADMIN_CLIENT_BACKENDS ?? '[]');
const providers = [
  ['ra-data-simple-rest', simpleRest],
  ['ra-data-json-server', jsonServer],
];

test('there is a backend to test', () => {
  assert.ok(backends.length > 0, 'AUTOADMIN_CLIENT_BACKENDS is empty: run tests/clients/run.sh');
});

for (const backend of backends) {
  for (const [name, make] of providers) {
    test(`${name} against ${backend.name}`, async (t) => {
      const dataProvider = make(backend.api);
      const db = backend.db;
      const tag = `${name.replace(/\W/g, '')}${Date.now()}`;
      const ids = (list) => list.map((record) => record.id);

      // create
      const { data: author } = await dataProvider.create('authors', {
        data: { name: `Author ${tag}`, email: `${tag}@example.com` },
      });
      assert.equal(scalar(db, `SELECT name FROM authors WHERE id = ${author.id}`), `Author ${tag}`);
      assert.equal(author.active, true, 'descriptor default');
      const posts = [];
      for (let i = 0; i < 7; i++) {
        const { data } = await dataProvider.create('posts', {
          data: { title: `${tag} post ${i}`, author_id: author.id, views: i * 10, status: i % 2 ? 'published' : 'draft', rating: '4.5' },
        });
        posts.push(data);
      }
      assert.equal(scalar(db, `SELECT COUNT(*) FROM posts WHERE author_id = ${author.id}`), '7');
      assert.equal(posts[0].status, 'draft');
      assert.equal(typeof posts[0].id, 'number');

      await t.test('getOne', async () => {
        const { data } = await dataProvider.getOne('posts', { id: posts[3].id });
        assert.deepEqual(data, posts[3]);
      });

      await t.test('getList: page, sort, filter, total', async () => {
        const { data, total } = await dataProvider.getList('posts', {
          pagination: { page: 2, perPage: 2 },
          sort: { field: 'views', order: 'DESC' },
          filter: { author_id: author.id },
        });
        assert.equal(total, 7);
        assert.deepEqual(ids(data), [posts[4].id, posts[3].id]);
        const inDb = rows(db, `SELECT id FROM posts WHERE author_id = ${author.id} ORDER BY views DESC, id DESC LIMIT 2 OFFSET 2`).map((r) => Number(r[0]));
        assert.deepEqual(ids(data), inDb);
      });

      await t.test('getList: full-text q and a choice filter', async () => {
        const { data, total } = await dataProvider.getList('posts', {
          pagination: { page: 1, perPage: 10 },
          sort: { field: 'id', order: 'ASC' },
          filter: { q: `${tag} post`, status: 'published' },
        });
        assert.equal(total, 3);
        assert.deepEqual(ids(data), [posts[1].id, posts[3].id, posts[5].id]);
      });

      await t.test('getMany', async () => {
        const { data } = await dataProvider.getMany('posts', { ids: [posts[6].id, posts[0].id] });
        assert.deepEqual(ids(data).sort((a, b) => a - b), [posts[0].id, posts[6].id]);
      });

      await t.test('getManyReference', async () => {
        const { data, total } = await dataProvider.getManyReference('posts', {
          target: 'author_id',
          id: author.id,
          pagination: { page: 1, perPage: 2 },
          sort: { field: 'id', order: 'DESC' },
          filter: { status: 'draft' },
        });
        const drafts = Number(scalar(db, `SELECT COUNT(*) FROM posts WHERE author_id = ${author.id} AND status = 'draft'`));
        assert.equal(total, drafts);
        assert.deepEqual(ids(data), [posts[6].id, posts[4].id]);
      });

      await t.test('update (the full record, as react-admin sends it)', async () => {
        const { data } = await dataProvider.update('posts', {
          id: posts[0].id,
          data: { ...posts[0], title: `${tag} renamed`, views: 99 },
          previousData: posts[0],
        });
        assert.equal(data.title, `${tag} renamed`);
        assert.equal(data.created_at, posts[0].created_at, 'read-only fields are kept');
        assert.deepEqual(rows(db, `SELECT title, views FROM posts WHERE id = ${posts[0].id}`), [[`${tag} renamed`, '99']]);
      });

      await t.test('updateMany', async () => {
        const targets = [posts[1].id, posts[2].id];
        const { data } = await dataProvider.updateMany('posts', { ids: targets, data: { status: 'archived' } });
        assert.deepEqual([...data].sort((a, b) => a - b), targets);
        assert.equal(scalar(db, `SELECT COUNT(*) FROM posts WHERE id IN (${targets}) AND status = 'archived'`), '2');
      });

      await t.test('server-side validation reaches the client as an error', async () => {
        await assert.rejects(
          dataProvider.create('posts', { data: { title: '', author_id: author.id } }),
          (error) => error.status === 422 && error.body.errors.title === 'is required',
        );
      });

      await t.test('delete', async () => {
        const { data } = await dataProvider.delete('posts', { id: posts[6].id, previousData: posts[6] });
        assert.equal(data.id, posts[6].id);
        assert.equal(scalar(db, `SELECT COUNT(*) FROM posts WHERE id = ${posts[6].id}`), '0');
      });

      await t.test('deleteMany', async () => {
        const targets = [posts[4].id, posts[5].id];
        const { data } = await dataProvider.deleteMany('posts', { ids: targets });
        assert.deepEqual([...data].sort((a, b) => a - b), targets);
        assert.equal(scalar(db, `SELECT COUNT(*) FROM posts WHERE author_id = ${author.id}`), '4');
      });
    });
  }
}
