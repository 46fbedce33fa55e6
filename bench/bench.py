#!/usr/bin/env python3
"""The benchmark suite of bench/run.sh (read that first): datasets, wrk workloads W1-W5 (and W2r, W3r: the same reads of posts with their relations) on
every backend, the pgbench floor of the SQL autoadmin sent (captured from PostgreSQL's log),
CSV export, binary size and cold start, and the optional 10M-row keyset run.

Everything talks to 127.0.0.1, every run is bounded in time, and the servers it starts are
stopped on exit."""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTS_BLOCK = re.compile(r'(?ms)^\[\[entity\]\]\nname = "posts"\n.*?(?=^\[\[entity\]\]|\Z)')
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench/run.sh: begin -->", "<!-- bench/run.sh: end -->"
DEFAULT_BACKENDS = "sqlite,postgres,mysql"

servers = []


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def output(cmd, **kw):
    return run(cmd, capture_output=True, **kw).stdout


# ---------------------------------------------------------------- datasets

WORDS = "ADJ.word || ' ' || NOUN.word"
ADJ = ["Fast", "Safe", "Simple", "Hidden", "Practical", "Lazy", "Concurrent", "Typed"]
NOUN = ["queries", "indexes", "migrations", "transactions", "caches", "schemas", "joins",
        "cursors", "locks", "backups"]


def case(expr, words):
    whens = " ".join(f"WHEN {k} THEN '{w}'" for k, w in enumerate(words))
    return f"CASE {expr} {whens} END"


def post_columns(dialect):
    """The SELECT list that makes post i, the same on every backend (deterministic)."""
    cat = (lambda *parts: " || ".join(parts)) if dialect != "mysql" else \
        (lambda *parts: "CONCAT(" + ", ".join(parts) + ")")
    text_i = "CAST(i AS CHAR)" if dialect == "mysql" else "CAST(i AS TEXT)"

    def minutes(base, expr):
        if dialect == "postgres":
            return f"timestamp '{base}' + ({expr}) * interval '1 minute'"
        if dialect == "mysql":
            return f"TIMESTAMP '{base}' + INTERVAL ({expr}) MINUTE"
        return f"datetime('{base}', '+' || ({expr}) || ' minutes')"

    status = "CASE i % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'published' ELSE 'archived' END"
    if dialect == "postgres":
        status = f"({status})::post_status"
    adj, noun = case("i % 8", ADJ), case("i % 10", NOUN)
    return ", ".join([
        cat(adj, "' '", noun, "' #'", text_i),
        cat("'Part '", text_i, "' of a long series on '", noun,
            "'. It explains, with examples, why they matter.'"),
        status,
        "1 + i % 1000",
        "(i * 7919) % 10000",
        "(i % 50) / 10.0",
        minutes("2020-01-01 00:00:00", "(i * 37) % 1000000"),
        minutes("2019-01-01 00:00:00", "i"),
    ])


POST_INSERT = ("INSERT INTO posts (title, body, status, author_id, views, rating, published_at, "
               "created_at) ")


def author_sql(dialect, numbers):
    name = "CONCAT('Author ', i), CONCAT('a', i, '@example.com')" if dialect == "mysql" else \
        "'Author ' || i, 'a' || i || '@example.com'"
    return f"INSERT INTO authors (name, email) SELECT {name} FROM {numbers(1000)}"


def setup_postgres(server_url, name, posts):
    run(["psql", server_url, "-qX", "-v", "ON_ERROR_STOP=1",
         "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "-c", f"CREATE DATABASE {name}"])
    url = server_url.rsplit("/", 1)[0] + "/" + name
    numbers = lambda n: f"generate_series(1::bigint, {n}) AS n(i)"  # noqa: E731
    run(["psql", url, "-qX", "-v", "ON_ERROR_STOP=1", "-f", str(ROOT / "migrations/postgres/0001_blog.sql"),
         "-c", author_sql("postgres", numbers),
         "-c", POST_INSERT + f"SELECT {post_columns('postgres')} FROM {numbers(posts)}",
         "-c", "VACUUM ANALYZE"])
    return url


def setup_mysql(server_url, name, posts):
    base = server_url.rsplit("/", 1)[0]
    host = re.match(r"mysql://(\w+)@([\d.]+):(\d+)", base)
    args = ["mysql", "-u", host[1], "-h", host[2], "-P", host[3]]
    run(args + ["-e", f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"])
    # No recursion limit to worry about: the numbers come from cross joins of ten digits.
    digits = "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL " \
             "SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL " \
             "SELECT 8 UNION ALL SELECT 9)"

    def numbers(n):
        places = len(str(n))
        terms = " + ".join(f"d{p}.d * {10 ** p}" for p in range(places))
        joins = ", ".join(f"{digits} d{p}" for p in range(places))
        return f"(SELECT {terms} + 1 AS i FROM {joins}) n WHERE i <= {n}"

    script = (ROOT / "migrations/mysql/0001_blog.sql").read_text()
    script += f";\n{author_sql('mysql', numbers)};\n"
    script += POST_INSERT + f"SELECT {post_columns('mysql')} FROM {numbers(posts)};\nANALYZE TABLE posts;\n"
    run(args + [name], input=script, stdout=subprocess.DEVNULL)
    return f"{base}/{name}"


def setup_sqlite(path, posts):
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path)
    db.executescript((ROOT / "migrations/sqlite/0001_blog.sql").read_text())
    numbers = lambda n: f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i FROM n)"  # noqa: E731,E501
    db.execute(author_sql("sqlite", numbers))
    db.execute(POST_INSERT + f"SELECT {post_columns('sqlite')} FROM {numbers(posts)}")
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return f"sqlite://{path}"


def bench_config(work):
    """config/blog.toml with the fixed admission limit, plus two views of its `posts` table
    without their relations (tags, inline comments): `posts_plain`, which W1-W5 measure (the posts table alone, as the series
    always did), and `posts_estimated`, the same with `count = "estimated"` (W1e). W2r and
    W3r measure the demo's `posts`, with its relations."""
    text = (ROOT / "config/blog.toml").read_text()
    posts = POSTS_BLOCK.search(text)[0]
    plain = posts.split("\n  [[entity.relation]]")[0].rstrip() + "\n"
    # Without the relations, their names leave its columns and filters too.
    for relation in re.findall(r'\[\[entity\.relation\]\]\n  name = "([^"]+)"\n  target = "[^"]+"\n  through', posts):
        plain = plain.replace(f'"{relation}", ', '').replace(f', "{relation}"', '')
    twins = [
        plain.replace('name = "posts"\n', 'name = "posts_plain"\ntable = "posts"\n', 1),
        plain.replace('name = "posts"\n', 'name = "posts_estimated"\ntable = "posts"\ncount = "estimated"\n', 1),
    ]
    # W1-W5 measure throughput: every one of their closed-loop clients is admitted (the fixed
    # limit, as the series always ran); the adaptive limit, the default, refuses those beyond
    # what the database serves at its idle latency (bench/overload.sh measures that).
    text = text.replace('base_path = "/admin"\n', 'base_path = "/admin"\nadaptive_admission = false\n', 1)
    path = work / "bench.toml"
    path.write_text(text.rstrip() + "\n\n" + "\n".join(twins))
    return path


def auth_config(binary, config, work):
    """The bench config with the built-in login: one user, `bench`, role admin."""
    path = work / "bench-auth.toml"
    if not path.exists():
        password_hash = output([binary, "hash-password"], input="bench-pass\n").strip()
        path.write_text(config.read_text() + f"""
[auth]
secret = "{'b' * 48}"

  [[auth.user]]
  name = "bench"
  role = "admin"
  password_hash = "{password_hash}"
""")
    return path


# ---------------------------------------------------------------- the server

class Server:
    def __init__(self, binary, config, url, port, work, name):
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = work / f"server-{name}.log"
        self.process = subprocess.Popen(
            [binary, "serve", "--config", str(config), "--database-url", url,
             "--bind", f"127.0.0.1:{port}", "--insecure-dev"],
            stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")})
        servers.append(self)
        self.started = time.monotonic()
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.base + "/admin/api/health", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server did not start; see {self.log_path}:\n"
                                     + self.log_path.read_text()[-2000:])
                time.sleep(0.01)
        self.ready_after = time.monotonic() - self.started

    def get(self, path, method="GET", body=None):
        request = urllib.request.Request(self.base + path, method=method, data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            return response.status, headers, response.read()

    def rss_kib(self, key):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self in servers:
            servers.remove(self)


# ---------------------------------------------------------------- workloads

def workloads(posts):
    """name → (description, method, path, JSON body or None, vary the id?)."""
    filters = json.dumps({"author_id": 17, "status": "published"}, separators=(",", ":"))
    search = json.dumps({"title": {"ilike": "4242"}}, separators=(",", ":"))
    body = json.dumps({"title": "A benchmark post", "body": "Written by wrk.", "status": "draft",
                       "author_id": 17, "views": 3, "rating": "4.5",
                       "published_at": "2024-05-01T10:00:00Z"})
    q = urllib.parse.quote
    w2 = f"?_filters={q(filters)}&_sortField=published_at&_sortDir=DESC&_page=1&_perPage=25"
    return {
        "W1": ("page 3 of 25, sorted by id desc, exact total", "GET",
               "/admin/api/posts_plain?_page=3&_perPage=25&_sortField=id&_sortDir=DESC", None),
        "W1e": ("W1 with `count = \"estimated\"`", "GET",
                "/admin/api/posts_estimated?_page=3&_perPage=25&_sortField=id&_sortDir=DESC", None),
        "W2": ("author_id=17 and status=published, by published_at desc, page 1, exact total", "GET",
               f"/admin/api/posts_plain{w2}", None),
        "W2r": ("W2 of the demo's posts, each with its tags (many-to-many: one more statement per page)",
                "GET", f"/admin/api/posts{w2}", None),
        "W3": (f"get one post by id (random 1..{posts})", "GET", "/admin/api/posts_plain/{id}", None),
        "W3r": ("W3 of the demo's posts, with its tags and its inline comments (two more statements)",
                "GET", "/admin/api/posts/{id}", None),
        "W5": ("title contains \"4242\" (ilike), page 1, exact total", "GET",
               f"/admin/api/posts_plain?_filters={q(search)}&_page=1&_perPage=25", None),
        "W4": ("create a post", "POST", "/admin/api/posts_plain", body),
    }


def wrk_script(work, name, method, path, body, posts, token=None):
    lua = work / f"{name}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    if "{id}" in path:
        head, tail = path.split("{id}")
        lua.write_text(f"""math.randomseed(7)
{auth}request = function()
  return wrk.format("GET", "{head}" .. math.random(1, {posts}) .. "{tail}")
end
""")
    else:
        lua.write_text(f"""wrk.method = "{method}"
wrk.path = {json.dumps(path)}
wrk.headers["Content-Type"] = "application/json"
{"wrk.body = " + json.dumps(body) if body else ""}
""")
    return lua


def parse_duration(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(server, lua, args):
    out = output(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.duration}s",
                  "--timeout", "10s", "--latency", "-s", str(lua), server.base])
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": parse_duration(re.search(r"\s50%\s+(\S+)", out)[1]),
        "p99": parse_duration(re.search(r"\s99%\s+(\S+)", out)[1]),
        "requests": int(re.search(r"(\d+) requests in", out)[1]),
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise SystemExit(f"wrk saw failures ({lua.name}):\n{out}")
    return result


# ---------------------------------------------------------------- the pgbench floor

LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S*) (LOG|DETAIL):  (.*)$")
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


class Capture:
    """The statements a request made autoadmin send, read from PostgreSQL's own log
    (`log_statement = all` on the benchmark database only, while capturing)."""

    def __init__(self, url):
        self.url = url
        self.db = url.rsplit("/", 1)[1]
        line = output(["pg_lsclusters", "-h"]).split("\n")[0].split()
        self.log_file = Path(line[-1])

    def mark(self, text):
        run(["psql", self.url, "-qXAt", "-c", f"SELECT 'aa-bench-mark {text}'"], stdout=subprocess.DEVNULL)

    def statements(self, name, send):
        self.mark(f"{name} begin")
        send()
        self.mark(f"{name} end")
        time.sleep(0.2)
        lines = self.log_file.read_text(errors="replace").splitlines()
        start = max(i for i, l in enumerate(lines) if f"aa-bench-mark {name} begin" in l)
        end = max(i for i, l in enumerate(lines) if f"aa-bench-mark {name} end" in l)
        statements = []
        for line in lines[start + 1:end]:
            m = LINE.match(line)
            if not m:
                if statements and line.startswith("\t"):
                    statements[-1]["sql"] += " " + line.strip()
                continue
            who, kind, text = m[2], m[3], m[4]
            if not who.endswith("@" + self.db) or "aa-bench-mark" in text:
                continue
            if kind == "LOG":
                sql = re.sub(r"^(statement|execute [^:]+): ", "", text)
                # sqlx's own lookup of a type it has not met yet on that connection (once per
                # connection and type) is not part of the request's work.
                if sql != text and "pg_catalog.pg_type" not in sql:
                    statements.append({"sql": sql, "params": {}})
            elif kind == "DETAIL" and statements and text.startswith("parameters: "):
                statements[-1]["params"] = {int(k): v for k, v in PARAM.findall(text)}
        if not statements:
            raise SystemExit(f"no statement of {name} was found in {self.log_file}")
        return statements


def pgbench_script(work, name, statements, vary=None):
    """The captured statements as a pgbench script, each bind a variable (`-D`), so that
    `-M prepared` sends them as parameters, as autoadmin does. `vary` = (value, upper):
    that bind becomes a random integer in 1..upper on each transaction."""
    lines, defines = [], []
    if vary:
        lines.append(f"\\set vary random(1, {vary[1]})")
    for j, statement in enumerate(statements):
        sql = statement["sql"]

        def variable(m, j=j, params=statement["params"]):
            value = params[int(m[1])]
            if value == "NULL":
                return "NULL"
            value = value[1:-1].replace("''", "'")
            if vary and value == str(vary[0]):
                return ":vary"
            defines.extend(["-D", f"s{j}p{m[1]}={value}"])
            return f":s{j}p{m[1]}"

        lines.append(re.sub(r"\$(\d+)", variable, sql).rstrip(";") + ";")
    path = work / f"{name}.pgbench.sql"
    path.write_text("\n".join(lines) + "\n")
    return path, defines


def pgbench(url, script, defines, args, work):
    logs = work / "pgbench-logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    out = output(["pgbench", "-n", "-M", "prepared", "-c", str(args.pool), "-j", "2",
                  "-T", str(args.duration), "-f", str(script), "-l", "--log-prefix", str(logs / "tx"),
                  *defines, url])
    latencies = []
    for file in logs.iterdir():
        for line in file.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1000.0)
    latencies.sort()
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if failed and int(failed[1]):
        raise SystemExit(f"pgbench saw failures:\n{out}")
    return {
        "rps": float(re.search(r"tps = ([\d.]+)", out)[1]),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def percentile(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


# ---------------------------------------------------------------- one backend

def bench_backend(name, url, args, work, binary, config, rows):
    log(f"== {name}: W1-W5 for {args.duration}s each, {args.connections} connections")
    specs = workloads(args.posts)
    capture = Capture(url) if name == "postgres" and not args.no_floor else None
    floors = {}
    if capture:
        # Capture with logging on, then restart the server so that its timed connections
        # do not log.
        run(["psql", url, "-qX", "-c", f"ALTER DATABASE {capture.db} SET log_statement = 'all'"])
        server = Server(binary, config, url, args.port, work, name + "-capture")
        for key, (_, method, path, body) in specs.items():
            concrete = path.replace("{id}", "123457" if args.posts >= 123457 else "1357")
            data = body.encode() if body else None
            for _ in range(3):  # warm every statement and type lookup first
                if key != "W4":
                    server.get(concrete, method, data)
            floors[key] = capture.statements(key, lambda: server.get(concrete, method, data))
        server.stop()
        run(["psql", url, "-qX", "-c", f"ALTER DATABASE {capture.db} RESET log_statement"])
        (work / "captured.json").write_text(json.dumps(floors, indent=1))
    server = Server(binary, config, url, args.port, work, name)
    results = {}

    def measure(key, label=None):
        _, method, path, body = specs[key]
        lua = wrk_script(work, key, method, path, body, args.posts)
        # A short warm-up fills the pool and the statement caches.
        if not args.smoke:
            wrk(server, lua, argparse.Namespace(connections=args.connections, duration=1))
        result = wrk(server, lua, args)
        floor_key = "W1" if key == "W1e" else key
        if capture and floor_key in floors:
            vary = (123457 if args.posts >= 123457 else 1357, args.posts) if key in ("W3", "W3r") else None
            script, defines = pgbench_script(work, floor_key, floors[floor_key], vary)
            if key != "W1e":
                result["floor"] = pgbench(url, script, defines, args, work)
            else:
                result["floor"] = results["W1"]["floor"]
            result["sql"] = floors[floor_key]
        results[label or key] = result
        log(f"   {label or key}: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms"
            + (f", floor {result['floor']['rps']:.0f} tx/s" if "floor" in result else ""))

    for key in ["W1", "W1e", "W2", "W2r", "W3", "W3r", "W5"]:
        measure(key)
        if key == "W3" and name == "postgres":
            floor = http_floor(url, args, work, binary)
            if floor:
                if "floor" in results["W3"]:
                    floor["floor"] = results["W3"]["floor"]
                results["W3 axum+sqlx"] = floor
    if name == "postgres" and not args.smoke:
        # What `check --advise` says for the search, applied, then W5 again.
        advice = output([binary, "check", "--config", str(config), "--database-url", url, "--advise"])
        statements = sorted({line[line.index("CREATE "):] for line in advice.splitlines()
                             if 'entity "posts", field "title"' in line and "gin_trgm_ops" in line})
        for sql in statements:
            log(f"   applying: {sql}")
            run(["psql", url, "-qX", "-v", "ON_ERROR_STOP=1", "-c", sql])
        if statements:
            run(["psql", url, "-qX", "-c", "ANALYZE posts"])
            measure("W5", "W5+trgm")
    measure("W4")
    server.stop()
    # W3 again, authenticated: the built-in login, a Bearer token on every request.
    server = Server(binary, auth_config(binary, config, work), url, args.port, work, name + "-auth")
    _, _, body = server.get("/admin/api/login", "POST",
                            json.dumps({"username": "bench", "password": "bench-pass"}).encode())
    token = json.loads(body)["token"]
    _, method, path, _ = specs["W3"]
    lua = wrk_script(work, "W3auth", method, path, None, args.posts, token)
    if not args.smoke:
        wrk(server, lua, argparse.Namespace(connections=args.connections, duration=1))
    results["W3 auth"] = wrk(server, lua, args)
    if "floor" in results["W3"]:
        results["W3 auth"]["floor"] = results["W3"]["floor"]
    log(f"   W3 auth: {results['W3 auth']['rps']:.0f} req/s, p99 {results['W3 auth']['p99']:.2f} ms")
    server.stop()
    created = rows(url)
    if created <= args.posts:
        raise SystemExit(f"{name}: W4 created no row")
    return results


def http_floor(url, args, work, binary):
    """W3 against examples/http_floor.rs (built beside the binary): axum and sqlx doing the
    same SELECT with no admin in between."""
    exe = Path(binary).parent / "examples" / "http_floor"
    if not exe.exists():
        log(f"   W3 axum+sqlx: skipped, {exe} is not built")
        return None
    port = args.port + 10
    log_path = work / "http-floor.log"
    process = subprocess.Popen([str(exe), url, f"127.0.0.1:{port}"], stdout=open(log_path, "w"),
                               stderr=subprocess.STDOUT)
    target = argparse.Namespace(base=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(target.base + "/posts/1", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"http_floor did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.01)
        lua = wrk_script(work, "W3floor", "GET", "/posts/{id}", None, args.posts)
        if not args.smoke:
            wrk(target, lua, argparse.Namespace(connections=args.connections, duration=1))
        result = wrk(target, lua, args)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log(f"   W3 axum+sqlx: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms")
    return result


def count_posts(url):
    if url.startswith("sqlite://"):
        return sqlite3.connect(url[len("sqlite://"):]).execute("SELECT count(*) FROM posts").fetchone()[0]
    if url.startswith("postgres"):
        return int(output(["psql", url, "-qXAt", "-c", "SELECT count(*) FROM posts"]))
    m = re.match(r"mysql://(\w+)@([\d.]+):(\d+)/(\w+)", url)
    return int(output(["mysql", "-u", m[1], "-h", m[2], "-P", m[3], m[4], "-N", "-e", "SELECT count(*) FROM posts"]))


# ---------------------------------------------------------------- export, size, start

def bench_export(name, url, args, work, binary, config, entity):
    server = Server(binary, config, url, args.port, work, f"{name}-{entity}-export")
    idle = server.rss_kib("VmRSS")
    start = time.monotonic()
    # curl reads the HTTP (Python's chunked decoding was slower than the server); the rows
    # are counted from its output as they come.
    reader = subprocess.Popen(["curl", "-sS", "--fail", "--max-time", "600",
                               server.base + f"/admin/api/{entity}/export.csv?_sortField=id"],
                              stdout=subprocess.PIPE)
    size = lines = 0
    for chunk in iter(lambda: reader.stdout.read(1 << 20), b""):
        size += len(chunk)
        lines += chunk.count(b"\n")
    if reader.wait() != 0:
        raise SystemExit(f"export failed: curl exited with {reader.returncode}")
    seconds = time.monotonic() - start
    peak = server.rss_kib("VmHWM")
    server.stop()
    return {"rows": lines - 1, "seconds": seconds, "rps": (lines - 1) / seconds,
            "mb": size / 1048576, "idle": idle / 1024, "peak": peak / 1024}


def cold_start(binary, config, url, args, work):
    times = []
    for i in range(5 if not args.smoke else 1):
        server = Server(binary, config, url, args.port, work, f"start-{i}")
        times.append(server.ready_after * 1000)
        server.stop()
    return statistics.median(times)


# ---------------------------------------------------------------- 10M rows: cursor vs offset

def bench_big(pg_server, args, work, binary, config):
    log(f"== 10M: {args.big_posts} posts in PostgreSQL")
    url = setup_postgres(pg_server, "aa_bench_big", args.big_posts)
    server = Server(binary, config, url, args.port, work, "big")
    base = "/admin/api/posts_estimated?_perPage=25&_sortField=id&_sortDir=DESC"
    deep = min(40_000, args.big_posts // 25)
    _, headers, _ = server.get(f"{base}&_page={deep - 1}")
    cursor_path = re.match(r"<([^>]+)>", headers["link"])[1]
    results = {}
    for label, path in [("page 1", f"{base}&_page=1"),
                        (f"page {deep} by OFFSET", f"{base}&_page={deep}"),
                        (f"page {deep} by cursor", cursor_path)]:
        lua = wrk_script(work, "big", "GET", path, None, args.posts)
        wrk(server, lua, argparse.Namespace(connections=args.connections, duration=1))
        results[label] = wrk(server, lua, args)
        log(f"   {label}: {results[label]['rps']:.0f} req/s, p99 {results[label]['p99']:.2f} ms")
    _, headers, _ = server.get(f"{base}&_page=1")
    results["total"] = (headers.get("x-total-count"), headers.get("x-total-count-kind"))
    server.stop()
    run(["psql", pg_server, "-qX", "-c", "DROP DATABASE IF EXISTS aa_bench_big WITH (FORCE)"])
    return results


# ---------------------------------------------------------------- report

def report(args, backends, export, size, starts, big, started):
    def ms(v):
        return f"{v:.2f}"

    out = []
    machine = machine_text()
    out.append(f"Run of {datetime.date.today()} at commit `{commit()}`, {elapsed(started)} for the whole script. "
               f"Machine: {machine}.")
    out.append("")
    out.append(f"wrk: 2 threads, {args.connections} connections, {args.duration} s per workload after a 1 s "
               f"warm-up; autoadmin's pool: {args.pool} connections. pgbench: `-M prepared -c {args.pool} -j 2 "
               f"-T {args.duration}` on the statements that autoadmin sent for one request of the workload, "
               f"read from PostgreSQL's log, with the same bound values (W3: a random id per transaction). "
               f"Server: `{os.path.relpath(args.binary, ROOT)} serve --insecure-dev` (no authentication, but for "
               f"W3 auth: the built-in login, a Bearer token per request, its floor W3's). "
               f"Latencies in ms.")
    for name, results in backends.items():
        out.append("")
        out.append(f"### {name}")
        out.append("")
        if name == "postgres":
            out.append("| workload | req/s | p50 | p99 | floor tx/s | floor p50 | floor p99 | ratio |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        else:
            out.append("| workload | req/s | p50 | p99 |")
            out.append("|---|---:|---:|---:|")
        for key, r in results.items():
            row = f"| {key} | {r['rps']:.0f} | {ms(r['p50'])} | {ms(r['p99'])} |"
            if name == "postgres":
                f = r.get("floor")
                row += (f" {f['rps']:.0f} | {ms(f['p50'])} | {ms(f['p99'])} | {r['rps'] / f['rps']:.2f}× |"
                        if f else " | | | |")
            out.append(row)
    out.append("")
    out.append("Workloads: " + "; ".join(f"**{k}** {v[0]}" for k, v in workloads(args.posts).items())
               + "; **W5+trgm** W5 after the pg_trgm index that `autoadmin check --advise` prints"
               + "; **W3 axum+sqlx** W3 served by `examples/http_floor.rs`: axum and sqlx doing the same "
               + "SELECT with no admin in between, the HTTP floor"
               + "; **W3 auth** W3 with `[auth]` configured, as every deployment is: a Bearer token checked "
               + "on each request (signature, expiry, and the user's session generation, read again at "
               + "most once per `revocation_delay_secs`).")
    if "postgres" in backends:
        out.append("")
        out.append("The SQL of the floor, as captured:")
        out.append("")
        out.append("```sql")
        seen = set()
        for key, r in backends["postgres"].items():
            base = "W1" if key == "W1e" else key.split("+")[0]
            if base in seen or "sql" not in r:
                continue
            seen.add(base)
            out.append(f"-- {base}")
            for statement in r["sql"]:
                params = ", ".join(f"${k} = {v}" for k, v in sorted(statement["params"].items()))
                out.append(statement["sql"] + (f"   -- {params}" if params else ""))
        out.append("```")
    if export:
        out.append("")
        out.append("CSV export (`/{entity}/export.csv?_sortField=id`, streamed, read by the script): "
                   "`posts_plain` is the posts table alone, as the series always measured it; `posts` "
                   "adds the demo's `tags` column (a correlated subquery on `post_tags` per row; the "
                   "benchmark's junction is empty):")
        out.append("")
        out.append("| backend | entity | rows | seconds | rows/s | CSV | RSS idle | peak RSS |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for (name, entity), e in export.items():
            out.append(f"| {name} | {entity} | {e['rows']} | {e['seconds']:.2f} | {e['rps']:.0f} | {e['mb']:.1f} MB | "
                       f"{e['idle']:.1f} MB | {e['peak']:.1f} MB |")
    out.append("")
    out.append(f"Binary (`target/release/autoadmin`): {size / 1048576:.1f} MB. Cold start, from exec to a "
               f"healthy answer (median of 5): " + ", ".join(f"{k} {v:.0f} ms" for k, v in starts.items()) + ".")
    if big:
        out.append("")
        out.append(f"{args.big_posts:,} posts (`--big`), `count = \"estimated\"`, 25 per page sorted by id desc:")
        out.append("")
        out.append("| request | req/s | p50 | p99 |")
        out.append("|---|---:|---:|---:|")
        for label, r in big.items():
            if label != "total":
                out.append(f"| {label} | {r['rps']:.0f} | {ms(r['p50'])} | {ms(r['p99'])} |")
        out.append("")
        out.append(f"Total sent with page 1: {big['total'][0]} ({big['total'][1]}).")
    return "\n".join(out)


def machine_text():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1048576
    pg = output(["psql", "-V"]).strip()
    maria = output(["mysql", "-V"]).strip() if shutil.which("mysql") else "no MySQL client"
    return f"{os.cpu_count()} × {cpu}, {mem:.0f} GiB; {pg}; {maria}; wrk, server and databases on the same cores"


def commit():
    try:
        return output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip()
    except subprocess.CalledProcessError:
        return "unknown"


def elapsed(started):
    return f"{(time.monotonic() - started) / 60:.1f} min"


def write_doc(text, backends=DEFAULT_BACKENDS):
    """Into the report's block; a run of other backends than the default into a block of its own."""
    doc = DOC.read_text()
    begin, end = (BEGIN, END) if backends == DEFAULT_BACKENDS else (
        f"<!-- bench/run.sh --backends {backends}: begin -->", f"<!-- bench/run.sh --backends {backends}: end -->")
    block = f"{begin}\n{text}\n{end}"
    if begin in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc += "\n" + block + "\n"
    DOC.write_text(doc)


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=str(ROOT / "target/release/autoadmin"))
    parser.add_argument("--smoke", action="store_true", help="tiny dataset, 1 s per run, no report file")
    parser.add_argument("--big", action="store_true", help="also 10M posts: cursor vs OFFSET (PostgreSQL)")
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--big-posts", type=int, default=10_000_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool", type=int, default=10, help="autoadmin's max_connections (the default)")
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--backends", default=DEFAULT_BACKENDS,
                        help="of sqlite, postgres, pgbouncer (PostgreSQL's database through "
                             "deploy/local/pgbouncer.sh, transaction pooling), mysql")
    args = parser.parse_args()
    if args.smoke:
        args.posts, args.export_rows, args.duration = 2_000, 5_000, 1
    started = time.monotonic()
    pg_server = os.environ.get("AUTOADMIN_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    my_server = os.environ.get("AUTOADMIN_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
    work = Path(tempfile.mkdtemp(prefix="autoadmin-bench-"))
    try:
        config = bench_config(work)
        urls = {}
        for backend in args.backends.split(","):
            log(f"== dataset: {args.posts} posts in {backend}")
            if backend == "sqlite":
                urls[backend] = setup_sqlite(work / "bench.sqlite", args.posts)
            elif backend == "postgres":
                urls[backend] = setup_postgres(pg_server, "aa_bench", args.posts)
            elif backend == "pgbouncer":
                # A database of its own, as fresh as PostgreSQL's (W4 there adds rows).
                direct = setup_postgres(pg_server, "aa_bench_pooled", args.posts)
                pooler = output([str(ROOT / "deploy/local/pgbouncer.sh"), "start"]).strip()
                urls[backend] = pooler.rsplit("/", 1)[0] + "/" + direct.rsplit("/", 1)[1]
            elif backend == "mysql":
                urls[backend] = setup_mysql(my_server, "aa_bench", args.posts)
        starts = {name: cold_start(args.binary, config, url, args, work) for name, url in urls.items()}
        results = {name: bench_backend(name, url, args, work, args.binary, config, count_posts)
                   for name, url in urls.items()}
        export = {}
        for backend in ["sqlite", "postgres"]:
            if backend not in urls:
                continue
            log(f"== export: {args.export_rows} posts from {backend}")
            url = setup_sqlite(work / "export.sqlite", args.export_rows) if backend == "sqlite" else \
                setup_postgres(pg_server, "aa_bench_export", args.export_rows)
            for entity in ["posts_plain", "posts"]:
                done = export[(backend, entity)] = bench_export(backend, url, args, work, args.binary, config, entity)
                if done["rows"] != args.export_rows:
                    raise SystemExit(f"export sent {done['rows']} rows, not {args.export_rows}")
                log(f"   {entity}: {done['rps']:.0f} rows/s, peak RSS {done['peak']:.1f} MB")
        size = os.path.getsize(args.binary)
        text = report(args, results, export, size, starts, None, started)
        if not args.smoke:
            write_doc(text, args.backends)  # now, so that a failure of the long 10M run loses nothing
        if args.big:
            text = report(args, results, export, size, starts,
                          bench_big(pg_server, args, work, args.binary, config), started)
            if not args.smoke:
                write_doc(text, args.backends)
        print(text)
        if not args.smoke:
            log(f"written to {DOC}")
    finally:
        for server in list(servers):
            server.stop()
        for db in ["aa_bench", "aa_bench_pooled", "aa_bench_export"]:
            subprocess.run(["psql", pg_server, "-qX", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
        if "pgbouncer" in args.backends.split(","):
            subprocess.run([str(ROOT / "deploy/local/pgbouncer.sh"), "stop"])


if __name__ == "__main__":
    main()
