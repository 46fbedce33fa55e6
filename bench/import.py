"""The import benchmark (issue #18), run by bench/import.sh (read that first): a CSV file of
the benchmark's posts (the columns bench/run.sh's posts have) imported through
`POST /posts_plain/import` of the release build, on PostgreSQL, SQLite and MariaDB, each
beside the floor of loading the same file without autoadmin (PostgreSQL's COPY; SQLite's
executemany in one transaction; MariaDB's multi-row INSERTs of 500 rows): rows per second,
the server's peak memory (VmHWM), and the rows and audit rows stored afterwards; then the table
exported as CSV and as an Excel workbook, and the workbook imported back. Writes its tables
into docs/performance.md between its markers."""

import argparse
import csv
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["title", "body", "status", "author_id", "views", "rating", "published_at", "created_at"]
STATUSES = ["draft", "published", "archived"]


def write_file(path, rows):
    """Post i as bench/run.sh's SQL makes it (its text, numbers and times)."""
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for i in range(1, rows + 1):
            noun = B.NOUN[i % 10]
            writer.writerow([
                f"{B.ADJ[i % 8]} {noun} #{i}",
                f"Part {i} of a long series on {noun}. It explains, with examples, why they matter.",
                STATUSES[i % 3],
                1 + i % 1000,
                (i * 7919) % 10000,
                f"{(i % 50) / 10:.1f}",
                minutes(2020, (i * 37) % 1000000),
                minutes(2019, i),
            ])


def minutes(year, n):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
        time.mktime((year, 1, 1, 0, 0, 0, 0, 0, 0)) - time.timezone + 60 * n))


def count(backend, url, table):
    query = f"SELECT COUNT(*) FROM {table}"
    if backend == "postgres":
        return int(B.output(["psql", url, "-tAXc", query]).strip())
    if backend == "mysql":
        host = re.match(r"mysql://(\w+)@([\d.]+):(\d+)/(\w+)", url)
        return int(B.output(["mysql", "-u", host[1], "-h", host[2], "-P", host[3], "-N", "-e", query, host[4]]).strip())
    db = sqlite3.connect(url.removeprefix("sqlite://"))
    (n,) = db.execute(query).fetchone()
    db.close()
    return n


def reset_peak(pid):
    """Starts the process's peak RSS (VmHWM) again from its current RSS (Linux, as root)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def fetch(url, path):
    """GET url into path: the seconds it took."""
    started = time.monotonic()
    B.output(["curl", "-sS", "--fail", "-o", str(path), url])
    return time.monotonic() - started


def workbooks(server, backend, url, work, rows):
    """The table exported as CSV and as a workbook, then the workbook imported (insert: a
    second copy of every row): seconds, sizes and the server's peak RSS of each."""
    pid = server.process.pid
    base = f"{server.base}/admin/api/posts_plain"
    out = {}
    for name in ["csv", "xlsx"]:
        reset_peak(pid)
        target = work / f"export.{name}"
        out[f"export_{name}"] = fetch(f"{base}/export.{name}?_sortField=id", target)
        out[f"{name}_size"] = target.stat().st_size
        out[f"export_{name}_peak"] = server.rss_kib("VmHWM")
    before = count(backend, url, "posts")
    reset_peak(pid)
    started = time.monotonic()
    answer = B.output(["curl", "-sS", "-X", "POST", "-T", str(work / "export.xlsx"),
                       "-H", "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       f"{base}/import?wait=3600"])
    out["import_xlsx"] = time.monotonic() - started
    out["import_xlsx_peak"] = server.rss_kib("VmHWM")
    assert '"committed":true' in answer, answer[:2000]
    stored = count(backend, url, "posts") - before
    # Every exported row went in again (the table may hold more than this run's rows).
    assert stored == before and before >= rows, (backend, "xlsx", stored, before)
    return out


def cpu_seconds(pid):
    """The CPU time a process has used (user and system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dump_written(backend, url, work):
    """The posts and audit rows the import wrote, into CSV files, for `floor_same_work`."""
    posts, audit = work / "written-posts.csv", work / "written-audit.csv"
    if backend == "postgres":
        B.run(["psql", url, "-qXc", f"\\copy posts TO '{posts}' CSV"])
        B.run(["psql", url, "-qXc", f"\\copy (SELECT * FROM autoadmin_audit ORDER BY id) TO '{audit}' CSV"])
    elif backend == "sqlite":
        db = sqlite3.connect(url.removeprefix("sqlite://"))
        for table, target in [("posts", posts), ("autoadmin_audit", audit)]:
            with open(target, "w", newline="") as out:
                csv.writer(out).writerows(db.execute(f"SELECT * FROM {table} ORDER BY id"))
        db.close()
    else:
        return None
    return posts, audit


def floor_same_work(backend, url, written):
    """Seconds to load, without autoadmin and in one transaction, the rows the import wrote:
    the posts (keys and all) and their audit rows (PostgreSQL: two COPYs; SQLite: two
    executemany). The floor of the same writes, where `floor` is that of the posts alone."""
    posts, audit = written
    if backend == "postgres":
        B.run(["psql", url, "-qXc", "TRUNCATE posts CASCADE", "-c", "TRUNCATE autoadmin_audit"])
        started = time.monotonic()
        B.run(["psql", url, "-qX", "-v", "ON_ERROR_STOP=1", "-c", "BEGIN",
               "-c", f"\\copy posts FROM '{posts}' CSV",
               "-c", f"\\copy autoadmin_audit FROM '{audit}' CSV", "-c", "COMMIT"])
        return time.monotonic() - started
    db = sqlite3.connect(url.removeprefix("sqlite://"))
    db.execute("DELETE FROM posts")
    db.execute("DELETE FROM autoadmin_audit")
    db.commit()
    started = time.monotonic()
    for table, path in [("posts", posts), ("autoadmin_audit", audit)]:
        with open(path, newline="") as source:
            reader = csv.reader(source)
            first = next(reader)
            marks = ", ".join("?" * len(first))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})",
                           ([None if c == "" else c for c in row]
                            for row in __import__("itertools").chain([first], reader)))
    db.commit()
    took = time.monotonic() - started
    db.close()
    return took


def floor(backend, url, path, rows):
    """Seconds to load the file without autoadmin, into an emptied posts table."""
    columns = ", ".join(COLUMNS)
    if backend == "postgres":
        B.run(["psql", url, "-qXc", "TRUNCATE posts CASCADE"])
        started = time.monotonic()
        B.run(["psql", url, "-qXc", f"\\copy posts ({columns}) FROM '{path}' CSV HEADER"])
        took = time.monotonic() - started
    elif backend == "sqlite":
        file = url.removeprefix("sqlite://")
        db = sqlite3.connect(file)
        db.execute("DELETE FROM posts")
        db.commit()
        started = time.monotonic()
        with open(path, newline="") as source:
            reader = csv.reader(source)
            next(reader)
            db.executemany(f"INSERT INTO posts ({columns}) VALUES ({', '.join('?' * len(COLUMNS))})",
                           ([None if c == "" else c for c in row] for row in reader))
        db.commit()
        took = time.monotonic() - started
        db.close()
    else:
        return None
    stored = count(backend, url, "posts")
    assert stored == rows, f"{backend} floor stored {stored} of {rows} rows"
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=str(ROOT / "target/release/autoadmin"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgres,sqlite,mysql")
    parser.add_argument("--port", type=int, default=18400)
    parser.add_argument("--smoke", action="store_true", help="10,000 rows, no report file")
    args = parser.parse_args()
    if args.smoke:
        args.rows = 10_000
    pg = os.environ.get("AUTOADMIN_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    my = os.environ.get("AUTOADMIN_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
    results = []
    with tempfile.TemporaryDirectory(prefix="autoadmin-import-") as tmp:
        work = Path(tmp)
        file = work / "posts.csv"
        write_file(file, args.rows)
        size = file.stat().st_size
        B.log(f"{args.rows} rows, {size / 1e6:.0f} MB")
        config = B.bench_config(work)
        for n, backend in enumerate(args.backends.split(",")):
            if backend == "postgres":
                url = B.setup_postgres(pg, "autoadmin_import_bench", 0)
            elif backend == "mysql":
                url = B.setup_mysql(my, "autoadmin_import_bench", 0)
            else:
                url = B.setup_sqlite(work / "import.sqlite", 0)
            server = B.Server(args.binary, config, url, args.port + n, work, f"import-{backend}")
            try:
                before = count(backend, url, "posts"), count(backend, url, "autoadmin_audit")
                started = time.monotonic()
                answer = B.output(["curl", "-sS", "-X", "POST", "-T", str(file),
                                   "-H", "Content-Type: text/csv",
                                   f"{server.base}/admin/api/posts_plain/import?wait=3600"])
                took = time.monotonic() - started
                peak = server.rss_kib("VmHWM")
                cpu = cpu_seconds(server.process.pid)
                stored = count(backend, url, "posts") - before[0]
                audited = count(backend, url, "autoadmin_audit") - before[1]
                written = dump_written(backend, url, work)
                excel = workbooks(server, backend, url, work, args.rows)
            finally:
                server.stop()
            assert '"committed":true' in answer, answer[:2000]
            assert stored == args.rows and audited == args.rows, (backend, stored, audited)
            floor_took = floor(backend, url, file, args.rows)
            same_took = floor_same_work(backend, url, written) if written else None
            results.append((backend, took, peak, floor_took, cpu, excel, same_took))
            B.log(f"{backend}: {args.rows / took:,.0f} rows/s, peak RSS {peak / 1024:.0f} MiB, "
                  f"server CPU {cpu:.1f} s of {took:.1f} s"
                  + (f", floor {args.rows / floor_took:,.0f} rows/s" if floor_took else "")
                  + (f", floor of the same writes {args.rows / same_took:,.0f} rows/s" if same_took else ""))
            B.log(f"{backend}: export.csv {excel['export_csv']:.1f} s, export.xlsx "
                  f"{excel['export_xlsx']:.1f} s ({excel['xlsx_size'] / 1e6:.0f} MB), xlsx import "
                  f"{args.rows / excel['import_xlsx']:,.0f} rows/s, peak RSS "
                  f"{excel['import_xlsx_peak'] / 1024:.0f} MiB")
    if args.smoke:
        return
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')} (`bench/import.sh`): {args.rows:,} posts "
        f"({size / 1e6:.0f} MB of CSV) imported with `POST /posts_plain/import` (mode insert, "
        "on_error abort: one transaction; an audit row per post), sent by curl over loopback "
        "as it is read from disk. Floor: the same file loaded without autoadmin.",
        "",
        "| backend | autoadmin | rows/s | server's CPU | server's peak RSS | floor: the file into posts | rows/s | floor: the same writes | rows/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    floors = {"postgres": "COPY (psql \\copy)", "sqlite": "executemany, one transaction (Python)",
              "mysql": "—"}
    same = {"postgres": "COPY of the posts and of their audit rows, one transaction",
            "sqlite": "executemany of the posts and of their audit rows, one transaction"}
    for backend, took, peak, floor_took, cpu, _, same_took in results:
        lines.append(
            f"| {backend} | {took:.1f} s | {args.rows / took:,.0f} | {cpu:.1f} s | {peak / 1024:.0f} MiB | "
            + (f"{floor_took:.1f} s {floors[backend]} | {args.rows / floor_took:,.0f} |" if floor_took else "— | — |")
            + (f" {same_took:.1f} s {same[backend]} | {args.rows / same_took:,.0f} |" if same_took else " — | — |"))
    lines += [
        "",
        "The first floor loads the file into the posts table alone; the second loads what the "
        "import wrote — the same posts, keys and all, and an audit row per post — without "
        "autoadmin, so it is the floor of the same writes: what is left between it and "
        "autoadmin is reading, checking and answering.",
        "",
        "Then, on the same server, the table exported (`?_sortField=id`, fetched by curl) as CSV "
        "and as an Excel workbook, and the workbook imported back (mode insert: a second copy "
        "of every row); each with the server's peak RSS during it (VmHWM, reset before each).",
        "",
        "| backend | export.csv | export.xlsx | workbook | peak RSS (xlsx) | import of the workbook | rows/s | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend, _, _, _, _, x, _ in results:
        lines.append(
            f"| {backend} | {x['export_csv']:.1f} s ({x['csv_size'] / 1e6:.0f} MB) | {x['export_xlsx']:.1f} s "
            f"| {x['xlsx_size'] / 1e6:.0f} MB | {x['export_xlsx_peak'] / 1024:.0f} MiB | {x['import_xlsx']:.1f} s "
            f"| {args.rows / x['import_xlsx']:,.0f} | {x['import_xlsx_peak'] / 1024:.0f} MiB |")
    report = ROOT / "docs/performance.md"
    text = report.read_text()
    begin, end = "<!-- bench/import.sh: begin -->", "<!-- bench/import.sh: end -->"
    block = begin + "\n" + "\n".join(lines) + "\n" + end
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Import\n\n" + block + "\n"
    report.write_text(text)


if __name__ == "__main__":
    main()
