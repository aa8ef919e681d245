"""Run every benchmark and print ratios measured in this one run: ``make bench`` at full size,
``make bench-quick`` (``--quick``) at a small size for CI.

The benchmarks whose figures depend on the database run twice: on SQLite, then on a PostgreSQL
cluster of their own (started here, as the services tests start theirs); their figures are printed
side by side at the end, and one summary line closes the run.

Exit status: 1 when a benchmark crashed (or, at full size, missed a target); a target missed at the
small size is reported but does not fail the quick run: small sizes are noisy and CI machines vary.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from common import MISSED, ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = ["request_time.py", "sync_costs.py", "concurrency.py", "bulk.py", "reconcile.py"]
#: Their figures depend on the database: measured on PostgreSQL too.
ON_POSTGRESQL = ["sync_costs.py", "concurrency.py", "bulk.py"]
FIGURE = re.compile(r"^(?P<name>.+?) +(?P<value>-?[\d.]+)(?P<unit> ?[^\s(]*) +\(target (?P<target>[^)]*)\) +"
                    r"(?P<verdict>ok|MISSED)$")


def run(name, env, figures, database):
    """Run one benchmark, echoing its output; returns its exit status."""
    print("== %s (%s)" % (name, database), flush=True)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, os.path.join(HERE, name)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="", flush=True)
        match = FIGURE.match(line.rstrip("\n"))
        if match:
            figures.setdefault((name, match["name"].strip()), {})[database] = match
    status = process.wait()
    print("-- %s (%s): %.0f s" % (name, database, time.monotonic() - started), flush=True)
    return status


def empty_sqlite_database(env, directory):
    """An SQLite file with every table and no rows, which each benchmark copies instead of making its own."""
    path = os.path.join(directory, "empty.sqlite3")
    subprocess.run([sys.executable, "-c", "import common; common.setup_django()"], cwd=HERE, check=True,
                   env=dict(env, BENCH_SQLITE_PATH=path))
    return path


def main():
    quick = "--quick" in sys.argv[1:]
    env = dict(os.environ, BENCH_QUICK="1" if quick else "")
    env.pop("BENCH_PG_PORT", None)
    started = time.monotonic()
    directory = tempfile.mkdtemp(prefix="shoop-mailchimp-bench-")
    env["BENCH_SQLITE_TEMPLATE"] = empty_sqlite_database(env, directory)
    figures = {}
    crashed = []
    for name in BENCHMARKS:
        status = run(name, env, figures, "sqlite")
        if status not in (0, MISSED):
            crashed.append("%s (sqlite)" % name)

    sys.path.insert(0, ROOT)
    from tests.services.servers import start_postgres

    postgres = start_postgres()
    if postgres is None:
        print("PostgreSQL is not installed (scripts/system-deps installs it): its figures are NOT MEASURED")
        crashed.append("postgresql")
    else:
        port, stop = postgres
        try:
            for name in ON_POSTGRESQL:
                status = run(name, dict(env, BENCH_PG_PORT=str(port)), figures, "postgresql")
                if status not in (0, MISSED):
                    crashed.append("%s (postgresql)" % name)
        finally:
            stop()
    shutil.rmtree(directory, ignore_errors=True)

    print("\n== side by side%s" % (" (quick: small sizes)" if quick else ""))
    print("%-62s %12s %12s  %s" % ("figure", "sqlite", "postgresql", "target"))
    missed = measured = 0
    for (_benchmark, figure), by_database in figures.items():
        values = []
        for database in ("sqlite", "postgresql"):
            match = by_database.get(database)
            if match is None:
                values.append("-")
                continue
            measured += 1
            missed += match["verdict"] == "MISSED"
            values.append("%s%s%s" % (match["value"], match["unit"], "!" if match["verdict"] == "MISSED" else ""))
        target = next(iter(by_database.values()))["target"]
        print("%-62s %12s %12s  %s" % (figure[:62], values[0], values[1], target))
    minutes = (time.monotonic() - started) / 60
    print("\nbench%s: %d figures measured, %d missed their target (marked !), %d benchmarks crashed%s; %.1f minutes"
          % (" (quick)" if quick else "", measured, missed, len(crashed),
             (": " + ", ".join(crashed)) if crashed else "", minutes))
    failed = bool(crashed) or (missed and not quick)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
