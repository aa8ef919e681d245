"""How long the fast tests take at an earlier revision and at HEAD, measured back to back on this machine.

    .venv/bin/python benchmarks/suite_speed.py [--xdist] [REVISION]

REVISION (default b01d51c, the revision issue 14 was filed against) and HEAD are each checked out into a
temporary clone, and their fast tests (no browser, services or packaging tests) run there with this
checkout's virtualenv, one after the other: in one process, or with ``--xdist`` in two (``-n 2 --dist
loadfile``, as ``make test-fast`` runs them). Each run gets a temporary folder of its own (``TMPDIR`` and
``SHOOP_MAILCHIMP_TEST_DB_DIR``), so that its SQLite files meet no other run's. Early revisions read
Mailchimp's OpenAPI description from outside the repository (``SHOOP_MAILCHIMP_OPENAPI_SPEC``): the
description shipped in HEAD's package is unpacked into the revision's clone and named there.

Prints, for each: wall time, CPU time (the test processes', workers included), the test counts, the wall
and CPU time per test; then HEAD's figures over the revision's. Not part of ``make bench``: it takes as long
as the two suites it runs (about 8 minutes with ``--xdist``).
"""
import argparse
import gzip
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["-m", "not browser and not services and not packaging"]
#: The revision issue 14 ("the fast suite runs in half of today's time") was filed against.
DEFAULT_REVISION = "b01d51c"
SPEC = os.path.join("shoop_mailchimp", "testing", "emulator", "openapi", "marketing-3.0.85.openapi.json.gz")
COUNTED = ("passed", "failed", "skipped", "error", "errors", "xfailed", "xpassed", "deselected")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counts(summary):
    """``{"passed": 318, "failed": 1, ...}`` from pytest's last line."""
    found = {}
    for number, word in re.findall(r"(\d+) (%s)\b" % "|".join(COUNTED), summary):
        found["error" if word == "errors" else word] = int(number)
    return found


def run_suite(folder, xdist, **env):
    """``(wall seconds, CPU seconds, counts, last line, exit code)`` of the fast tests in ``folder``."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FAST]
    if xdist:
        command += ["-n", "2", "--dist", "loadfile"]
    scratch = os.path.join(folder, ".suite-speed-tmp")
    os.makedirs(scratch, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=folder, TMPDIR=scratch, SHOOP_MAILCHIMP_TEST_DB_DIR=scratch, **env)
    cpu, started = children_cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    lines = [line for line in result.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = lines[-1].strip("= ") if lines else result.stdout[-300:].strip()
    for line in result.stdout.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            print("    " + line, flush=True)
    return wall, cpu, counts(summary), summary, result.returncode


def checkout(revision, folder):
    subprocess.run(["git", "clone", "-q", "--no-checkout", ROOT, folder], check=True)
    subprocess.run(["git", "checkout", "-q", revision], cwd=folder, check=True)
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=folder, check=True, stdout=subprocess.PIPE,
                          text=True).stdout.strip()


def report(name, wall, cpu, found, summary, code):
    ran = found.get("passed", 0) + found.get("failed", 0) + found.get("error", 0)
    print("%-8s %7.1f s wall %7.1f s CPU  %4d tests  %.3f s wall/test  %.3f s CPU/test  (%s)%s" % (
        name, wall, cpu, ran, wall / max(ran, 1), cpu / max(ran, 1), summary, "" if code == 0 else "  FAILED"),
        flush=True)
    return ran


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", nargs="?", default=DEFAULT_REVISION)
    parser.add_argument("--xdist", action="store_true", help="run each suite in two processes (-n 2)")
    options = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="suite-speed-") as base:
        head = os.path.join(base, "head")
        head_sha = checkout("HEAD", head)
        old = os.path.join(base, "old")
        old_sha = checkout(options.revision, old)
        spec = os.path.join(old, ".suite-speed-openapi.json")  # HEAD's description, inside the clone
        with gzip.open(os.path.join(head, SPEC)) as packed, open(spec, "wb") as unpacked:
            shutil.copyfileobj(packed, unpacked)
        print("fast tests, %s, %s then HEAD %s" % ("-n 2 --dist loadfile" if options.xdist else "one process",
                                                   old_sha, head_sha), flush=True)
        for name, folder, env in ((old_sha, old, {"SHOOP_MAILCHIMP_OPENAPI_SPEC": spec}), ("HEAD", head, {})):
            outcome = run_suite(folder, options.xdist, **env)
            results[name] = outcome + (report(name, *outcome),)
    (o_wall, o_cpu, *_rest, o_ran), (h_wall, h_cpu, *_rest2, h_ran) = results[old_sha], results["HEAD"]
    print("HEAD / %s: wall %.2fx, CPU %.2fx, tests %.2fx, wall per test %.2fx, CPU per test %.2fx" % (
        old_sha, h_wall / o_wall, h_cpu / o_cpu, h_ran / max(o_ran, 1),
        (h_wall / max(h_ran, 1)) / (o_wall / max(o_ran, 1)), (h_cpu / max(h_ran, 1)) / (o_cpu / max(o_ran, 1))))
    sys.exit(results["HEAD"][4])


if __name__ == "__main__":
    main()
