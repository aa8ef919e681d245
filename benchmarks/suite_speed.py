"""How long the fast tests take, now and at earlier revisions, measured one after the other on this machine.

    .venv/bin/python benchmarks/suite_speed.py [REVISION ...]

Each revision is checked out into a temporary folder and its fast tests (no browser, services or
packaging tests) run there the way its own Makefile ran them, with this checkout's virtualenv. The
working tree runs last, as ``make test-fast`` runs it (``TEST_WORKERS`` processes). Prints each wall
time and the ratio of the working tree's to each revision's. Not part of ``make bench``: it takes
as long as the suites it runs.
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["-m", "not browser and not services and not packaging"]
#: The revision the open issues were filed against, and the one before the test-speed work.
DEFAULT_REVISIONS = ["b01d51c", "aefd625"]


SPEC = os.path.join(ROOT, "shoop_mailchimp", "testing", "emulator", "openapi", "marketing-3.0.85.openapi.json.gz")


def run_suite(folder, extra, **env):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FAST, *extra]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=folder, env=dict(os.environ, PYTHONPATH=folder, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - started
    summary = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
    return seconds, (summary[-1] if summary else result.stdout[-300:]).strip(), result.returncode


def main():
    revisions = sys.argv[1:] or DEFAULT_REVISIONS
    workers = os.environ.get("TEST_WORKERS", "2")
    times = {}
    for revision in revisions:
        with tempfile.TemporaryDirectory(prefix="suite-speed-") as folder:
            subprocess.run(["git", "clone", "-q", ROOT, folder], check=True)
            subprocess.run(["git", "checkout", "-q", revision], cwd=folder, check=True)
            # Early revisions read Mailchimp's description, uncompressed, from outside the repository.
            spec = os.path.join(folder, "marketing.openapi.json")
            with gzip.open(SPEC) as packed, open(spec, "wb") as unpacked:
                shutil.copyfileobj(packed, unpacked)
            seconds, summary, code = run_suite(folder, [], SHOOP_MAILCHIMP_OPENAPI_SPEC=spec)
        times[revision] = seconds
        print("%-12s %7.1f s  %s%s" % (revision, seconds, summary, "" if code == 0 else "  (FAILED)"), flush=True)
    seconds, summary, code = run_suite(ROOT, ["-n", workers, "--dist", "loadfile"])
    print("%-12s %7.1f s  %s%s" % ("now", seconds, summary, "" if code == 0 else "  (FAILED)"))
    for revision, before in times.items():
        print("fast tests now / at %-12s %6.2fx" % (revision, seconds / before))
    sys.exit(code)


if __name__ == "__main__":
    main()
