// Reads the database directly (not through the API), with the command-line clients that
// come with the servers: psql, mysql, and python3's sqlite3 module.
import { execFileSync } from 'node:child_process';

const SQLITE = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("\\t".join("NULL" if v is None else str(v) for v in row))
`;

/** Rows of `sql` as arrays of strings (NULL as "NULL"). */
export function rows(db, sql) {
  let out;
  if (db.kind === 'postgres') {
    out = execFileSync('psql', [db.url, '-X', '-q', '-t', '-A', '-F', '\t', '-P', 'null=NULL', '-c', sql], { encoding: 'utf8' });
  } else if (db.kind === 'mysql') {
    out = execFileSync('mysql', ['-h', '127.0.0.1', '-u', 'root', '-N', '-B', db.name, '-e', sql], { encoding: 'utf8' });
  } else {
    out = execFileSync('python3', ['-c', SQLITE, db.path, sql], { encoding: 'utf8' });
  }
  return out.split('\n').filter((line) => line.length > 0).map((line) => line.split('\t'));
}

/** The first column of the first row, or undefined. */
export function scalar(db, sql) {
  const all = rows(db, sql);
  return all.length ? all[0][0] : undefined;
}
