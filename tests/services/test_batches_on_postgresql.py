"""The batch tests (bulk sync, bursts) again on a real PostgreSQL: a batch's rows are closed there many per
statement (``state.close_synced_together``), a path SQLite never takes.

Needs PostgreSQL's binaries (``scripts/system-deps`` installs them); skipped otherwise.
"""
import os
import subprocess
import sys

import pytest

from tests.services.processes import ROOT

pytestmark = pytest.mark.services


# Two whole test files in a process of their own (its own limit is the subprocess timeout): past the default 300 s
# on a loaded 2-core machine.
@pytest.mark.timeout(900)
def test_the_bulk_and_burst_tests_pass_on_postgresql(postgres_port):
    env = dict(os.environ, SHOOP_MAILCHIMP_PG_PORT=str(postgres_port), SHOOP_MAILCHIMP_DELIVERY="background",
               PYTHONPATH=ROOT)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ds", "tests.services.settings_pg",
         "-m", "not services", "tests/bulk", "tests/sync/test_bursts.py"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    output = finished.stdout.decode()
    assert finished.returncode == 0, output[-5000:]
    assert " passed" in output and "skipped" not in output, output[-2000:]
