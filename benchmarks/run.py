"""Run every benchmark and print ratios measured in this one run: ``make bench`` at full size,
``make bench-quick`` (``--quick``) at a small size for CI.

The benchmarks whose figures depend on the database run twice: on SQLite, then on a PostgreSQL
cluster of their own (started here, as the services tests start theirs; each benchmark gets a copy of
one database whose tables were made once); their figures are printed side by side at the end, and
one summary line closes the run. The peak-memory figures (two bulk syncs in processes of their own)
are taken beside the others at the lowest CPU priority (memory does not depend on CPU load), except
the concurrent drain, which runs alone. A quick run runs every benchmark of both databases in
QUICK_LANES lanes at once, longest first (most of a benchmark's time at the small size is waiting:
its start, latencies, batch polls), and prints how long each took.

Exit status: 1 when a benchmark crashed (or, at full size, missed a target); a target missed at the
small size is reported but does not fail the quick run: small sizes are noisy and CI machines vary. Nor does a
quick run's PostgreSQL cluster that could not be prepared (tried twice): its figures are reported NOT MEASURED with
the reason (the services tests, run before in ``make test``, fail when PostgreSQL does not work at all).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from common import MISSED, ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = ["request_time.py", "sync_costs.py", "bulk.py", "catalogue.py", "reconcile.py", "carts.py",
              "concurrency.py"]
#: Their figures depend on the database: measured on PostgreSQL too.
ON_POSTGRESQL = ["sync_costs.py", "bulk.py", "concurrency.py"]
#: Run with nothing beside them: the memory figures' syncs, even at the lowest CPU priority, took the
#: concurrent drain below its 95 requests/s (it is latency-bound: every millisecond of a send counts).
ALONE = {"concurrency.py"}
#: Lanes of a quick run, and its benchmarks longest first (seconds each took in a quick run on the 2-core machine
#: with other work beside: the order matters, not the values).
QUICK_LANES = int(os.environ.get("BENCH_QUICK_LANES") or 3)
QUICK_SECONDS = {("request_time.py", "sqlite"): 60, ("sync_costs.py", "sqlite"): 55, ("bulk.py", "sqlite"): 55,
                 ("bulk.py", "postgresql"): 50, ("sync_costs.py", "postgresql"): 45,
                 ("bulk.py memory-figures", "sqlite"): 40, ("carts.py", "sqlite"): 30, ("catalogue.py", "sqlite"): 25,
                 ("concurrency.py", "postgresql"): 20, ("concurrency.py", "sqlite"): 15, ("reconcile.py", "sqlite"): 10}
FIGURE = re.compile(r"^(?P<name>.+?) +(?P<value>-?[\d.]+)(?P<unit> [^\s(]+|[^\s(]*) +\(target (?P<target>[^)]*)\) +"
                    r"(?P<verdict>ok|MISSED)$")


def start(name, env, *arguments, lowest_priority=False):
    return subprocess.Popen([sys.executable, os.path.join(HERE, name), *arguments], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=(lambda: os.nice(19)) if lowest_priority else None)


#: One benchmark's output at a time: in a quick run the two databases' benchmarks run at once.
PRINTING = threading.Lock()


def cpu_times():
    """(all, stolen) CPU time of the machine so far, in ticks; (0, 0) where /proc/stat is not there."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(ticks[:8]), (ticks[7] if len(ticks) > 7 else 0)


def stolen_since(before):
    """Share of the CPU time the virtual machine's host took since ``before`` (a ``cpu_times()``): on a
    busy host it slows every figure that is a rate or a wall time."""
    total, stolen = (now - then for now, then in zip(cpu_times(), before))
    return stolen / total if total else 0.0


def report(name, process, figures, database, started, live=True, label=None):
    """Echo a benchmark's output (as it comes when ``live``, else in one piece at its end), keeping its
    figures; returns its exit status."""
    cpu_before = cpu_times()
    lines = []
    for line in process.stdout:
        if live:
            print(line, end="", flush=True)
        lines.append(line)
        match = FIGURE.match(line.rstrip("\n"))
        if match:
            figures.setdefault((name, match["name"].strip()), {})[database] = match
    status = process.wait()
    label = label or "%s (%s)" % (name, database)
    if started:
        lines.append("-- %s: %.0f s (CPU time stolen by the host meanwhile: %.0f%%)\n" % (
            label, time.monotonic() - started, 100 * stolen_since(cpu_before)))
    else:
        lines.append("-- %s: done\n" % label)
    with PRINTING:
        print("".join(lines[-1:] if live else ["== %s\n" % label] + lines), end="", flush=True)
    return status


def run_lane(names, env, figures, database, crashed, live=True, alone=lambda: None):
    """Run benchmarks one after the other on one database; ``alone()`` returns once nothing else runs
    beside (called before each of ``ALONE``)."""
    for name in names:
        if name in ALONE:
            alone()
        if live:
            print("== %s (%s)" % (name, database), flush=True)
        if report(name, start(name, env), figures, database, time.monotonic(), live) not in (0, MISSED):
            crashed.append("%s (%s)" % (name, database))


def postgresql_lane(env, figures, crashed, live=True, alone=lambda: None, postgres=None):
    """The ON_POSTGRESQL benchmarks on a cluster of their own: ``postgres`` is one already started (its
    ``start_postgres()`` result, or a callable returning it), else one is started here."""
    from tests.services.servers import start_postgres

    postgres = postgres() if callable(postgres) else (postgres or start_postgres())
    if postgres is None:
        print(NO_POSTGRESQL)
        crashed.append("postgresql")
        return
    port, stop = postgres
    try:
        databases = postgresql_databases(env, port, ON_POSTGRESQL)
        for name in ON_POSTGRESQL:
            run_lane([name], databases[name], figures, "postgresql", crashed, live, alone)
    finally:
        stop()


NO_POSTGRESQL = "PostgreSQL is not installed (scripts/system-deps installs it): its figures are NOT MEASURED"


def postgresql_databases(env, port, names):
    """{benchmark: its environment}: each benchmark on a database of its own, a copy of one whose tables were made
    once (creating Shuup's tables takes seconds; copying a database, a fraction of one)."""
    import psycopg2

    def create(name, template=None):
        connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        connection.autocommit = True
        try:
            # A copy waits up to 5 s for the template's last session to end; on a loaded machine, longer.
            for attempt in range(5):
                try:
                    with connection.cursor() as cursor:
                        cursor.execute('CREATE DATABASE "%s"%s' % (name, ' TEMPLATE "%s"' % template if template
                                                                    else ""))
                    return
                except psycopg2.errors.ObjectInUse:
                    if attempt == 4:
                        raise
                    time.sleep(1)
        finally:
            connection.close()

    create("bench_template")
    subprocess.run([sys.executable, "-c", "import common; common.setup_django()"], cwd=HERE, check=True,
                   env=dict(env, BENCH_PG_PORT=str(port), BENCH_PG_DATABASE="bench_template"))
    databases = {}
    for name in names:
        database = "bench_" + name.replace(".py", "")
        create(database, "bench_template")
        databases[name] = dict(env, BENCH_PG_PORT=str(port), BENCH_PG_DATABASE=database, BENCH_PG_COPIED="1")
    return databases


def quick_lanes(env, figures, crashed, unmeasured):
    """Every benchmark of both databases (each PostgreSQL one on a database of its own), QUICK_LANES at a time,
    longest first; the cluster starts while the first SQLite benchmarks run. A cluster that could not be prepared
    (tried twice) leaves its figures ``unmeasured``, with the reason."""
    import queue
    from concurrent.futures import ThreadPoolExecutor

    from tests.services.servers import start_postgres

    jobs = queue.Queue()
    every = ([(name, "sqlite") for name in BENCHMARKS] + [("bulk.py memory-figures", "sqlite")]
             + [(name, "postgresql") for name in ON_POSTGRESQL])
    for job in sorted(every, key=lambda job: -QUICK_SECONDS.get(job, 0)):
        jobs.put(job)
    stops = []

    def prepare_postgresql():
        """The databases of the PostgreSQL benchmarks; one more try on a new cluster if the first fails (a
        failure's reason is printed, and the second's ends the run's summary line)."""
        for attempt in range(2):
            postgres = start_postgres()
            if postgres is None:
                return None
            stops.append(postgres[1])
            try:
                return postgresql_databases(env, postgres[0], ON_POSTGRESQL)
            except Exception as error:
                print("PostgreSQL could not be prepared (try %d of 2): %r" % (attempt + 1, error), flush=True)
                if attempt == 1:
                    raise

    def lane():
        while True:
            try:
                name, database = jobs.get_nowait()
            except queue.Empty:
                return
            job_env = env
            if database == "postgresql":
                try:
                    job_env = (postgresql.result() or {}).get(name)
                except Exception as error:
                    # The machine's PostgreSQL, not a benchmark: its figures are reported not measured (the
                    # services tests, run before, fail when PostgreSQL does not work at all).
                    if not unmeasured:
                        unmeasured.append("postgresql (could not be prepared: %s)" % " ".join(str(error).split())[:300])
                    continue
                if job_env is None:
                    if "postgresql" not in crashed:
                        crashed.append("postgresql")
                        print(NO_POSTGRESQL, flush=True)
                    continue
            script, *arguments = name.split()  # "bulk.py memory-figures": the script, then its arguments
            if report(script, start(script, job_env, *arguments), figures, database, time.monotonic(), live=False,
                      label="%s (%s)" % (name, database)) not in (0, MISSED):
                crashed.append("%s (%s)" % (name, database))

    with ThreadPoolExecutor(max_workers=1) as starter:
        postgresql = starter.submit(prepare_postgresql)
        lanes = [threading.Thread(target=lane) for _ in range(QUICK_LANES)]
        for thread in lanes:
            thread.start()
        for thread in lanes:
            thread.join()
    for stop in stops:
        stop()


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
    started, cpu_before = time.monotonic(), cpu_times()
    directory = tempfile.mkdtemp(prefix="shoop-mailchimp-bench-")
    env["BENCH_SQLITE_TEMPLATE"] = empty_sqlite_database(env, directory)
    figures = {}
    crashed, unmeasured = [], []
    # Peak memory does not depend on CPU load: the two bulk syncs it takes run beside the other benchmarks (in a
    # quick run as one of its jobs; else at the lowest CPU priority, taking the time the others leave idle, and
    # reporting at the end).
    env["BENCH_MEMORY_APART"] = "1"
    sys.path.insert(0, ROOT)
    if quick:
        # Small sizes prove that every benchmark runs; their ratios are indicative at best, so the benchmarks run
        # several at once to keep CI short.
        quick_lanes(env, figures, crashed, unmeasured)
    else:
        memory = start("bulk.py", env, "memory-figures", lowest_priority=True)
        # The cluster starts (initdb, a few seconds) while the SQLite benchmarks run.
        from concurrent.futures import ThreadPoolExecutor

        from tests.services.servers import start_postgres

        with ThreadPoolExecutor(max_workers=1) as starter:
            postgres = starter.submit(start_postgres)
            run_lane(BENCHMARKS, env, figures, "sqlite", crashed, alone=memory.wait)
            postgresql_lane(env, figures, crashed, alone=memory.wait, postgres=postgres.result)
        if report("bulk.py", memory, figures, "sqlite", None, live=False,
                  label="bulk.py memory-figures (sqlite, beside the other benchmarks)") not in (0, MISSED):
            crashed.append("bulk.py memory-figures")
    shutil.rmtree(directory, ignore_errors=True)

    print("\n== side by side%s" % (" (quick: small sizes)" if quick else ""))
    print("%-62s %12s %12s  %s" % ("figure", "sqlite", "postgresql", "target"))
    missed = measured = 0
    # In the order of BENCHMARKS (a quick run's benchmarks end in any order), each benchmark's figures as it printed
    # them.
    for (_benchmark, figure), by_database in sorted(figures.items(), key=lambda item: BENCHMARKS.index(item[0][0])):
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
    print("\nbench%s: %d figures measured, %d missed their target (marked !), %d benchmarks crashed%s%s; %.1f "
          "minutes (%.0f%% of the CPU time stolen by the host)"
          % (" (quick)" if quick else "", measured, missed, len(crashed),
             (": " + ", ".join(crashed)) if crashed else "",
             ("; NOT MEASURED: " + ", ".join(unmeasured)) if unmeasured else "", minutes,
             100 * stolen_since(cpu_before)))
    failed = bool(crashed) or (missed and not quick)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
