"""W1-W3 of bench/run.sh served from the local cluster's PostgreSQL primary alone, and from the
primary with its streaming replica (`replica_urls`), in one run, each beside its pgbench floor
on the server that served it (W3's statement). Needs the local cluster (deploy/local/up.sh; this
script starts it when its primary is not running, and stops only what it started). Writes its
table into docs/performance.md ("Read replicas").

    bench/replicas.sh                 # 200,000 posts, 10 s per run
    bench/replicas.sh --smoke --binary target/debug/autoadmin
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = bench.ROOT
PRIMARY = "postgres://postgres@127.0.0.1:15432/postgres"
REPLICA = "postgres://postgres@127.0.0.1:15433/postgres"
DOC = ROOT / "docs/performance.md"
START, END = "<!-- replicas:start -->", "<!-- replicas:end -->"


def caught_up(name):
    """Waits until the replica has replayed everything the primary has written."""
    primary = bench.output(["psql", PRIMARY, "-tAX", "-c", "SELECT pg_current_wal_lsn()"]).strip()
    for _ in range(600):
        replayed = bench.output(["psql", REPLICA.rsplit("/", 1)[0] + "/" + name, "-tAX", "-c",
                                 f"SELECT pg_last_wal_replay_lsn() >= '{primary}'"]).strip()
        if replayed == "t":
            return
        time.sleep(0.1)
    raise SystemExit("the replica did not catch up within 60 s")


def floor(url, args, work):
    """W3's statement by pgbench on the server at `url`."""
    script = work / "w3.pgbench.sql"
    script.write_text(f"\\set id random(1, {args.posts})\n"
                      "SELECT id, title, body, status, author_id, views, rating, published_at "
                      "FROM posts WHERE id = :id;\n")
    return bench.pgbench(url, script, [], args, work)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=str(ROOT / "target/release/autoadmin"))
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--port", type=int, default=18400)
    args = parser.parse_args()
    if args.smoke:
        args.posts, args.duration = 2_000, 1
    started_cluster = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "15432"]).returncode != 0
    if started_cluster:
        bench.run([str(ROOT / "deploy/local/up.sh")], env={**os.environ, "AUTOADMIN_BIN": args.binary},
                  stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="autoadmin-replicas-"))
    name = "aa_bench_replicas"
    try:
        bench.log(f"== dataset: {args.posts} posts on the primary, streamed to the replica")
        url = bench.setup_postgres(PRIMARY, name, args.posts)
        caught_up(name)
        config = bench.bench_config(work)
        text = config.read_text()
        replicated = work / "bench-replicas.toml"
        replica_url = REPLICA.rsplit("/", 1)[0] + "/" + name
        replicated.write_text(text.replace('base_path = "/admin"\n',
                                           f'base_path = "/admin"\nreplica_urls = ["{replica_url}"]\n', 1))
        specs = bench.workloads(args.posts)
        results = {}
        for mode, path in [("primary alone", config), ("primary + replica", replicated)]:
            server = bench.Server(args.binary, path, url, args.port, work, mode.replace(" ", "-"))
            time.sleep(0.5)  # the replica's first checks
            for key in ["W1", "W2", "W3"]:
                _, method, route, body = specs[key]
                lua = bench.wrk_script(work, key, method, route, body, args.posts)
                if not args.smoke:
                    bench.wrk(server, lua, argparse.Namespace(connections=args.connections, duration=1))
                results[(mode, key)] = bench.wrk(server, lua, args)
                r = results[(mode, key)]
                bench.log(f"   {mode}, {key}: {r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms")
            server.stop()
        floors = {"primary": floor(url, args, work), "replica": floor(replica_url, args, work)}
        for where, r in floors.items():
            bench.log(f"   pgbench W3 on the {where}: {r['rps']:.0f} tx/s, p99 {r['p99']:.2f} ms")
        table = report(args, specs, results, floors)
        print(table)
        if not args.smoke:
            write_doc(table)
    finally:
        for server in list(bench.servers):
            server.stop()
        subprocess.run(["psql", PRIMARY, "-qX", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
        if started_cluster:
            subprocess.run([str(ROOT / "deploy/local/down.sh")], stdout=subprocess.DEVNULL)


def report(args, specs, results, floors):
    lines = [
        f"{args.posts:,} posts; wrk, {args.connections} connections, {args.duration} s per run; "
        f"release build; the local cluster's primary and replica on this machine "
        f"({os.cpu_count()} cores, shared with wrk and autoadmin); run of {time.strftime('%Y-%m-%d')}.",
        "",
        "| workload | primary alone: req/s | p50 | p99 | primary + replica: req/s | p50 | p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in ["W1", "W2", "W3"]:
        a, b = results[("primary alone", key)], results[("primary + replica", key)]
        lines.append(f"| {key}: {specs[key][0]} | {a['rps']:,.0f} | {a['p50']:.2f} ms | {a['p99']:.2f} ms "
                     f"| {b['rps']:,.0f} | {b['p50']:.2f} ms | {b['p99']:.2f} ms |")
    p, r = floors["primary"], floors["replica"]
    lines += ["", f"Floor (pgbench, W3's statement, {args.pool} clients): on the primary {p['rps']:,.0f} tx/s "
              f"(p99 {p['p99']:.2f} ms), on the replica {r['rps']:,.0f} tx/s (p99 {r['p99']:.2f} ms)."]
    return "\n".join(lines)


def write_doc(table):
    text = DOC.read_text()
    block = f"{START}\n{table}\n{END}"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S) \
        if START in text else text.rstrip() + "\n\n## Read replicas\n\n" + block + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
