"""Shared by the probes of independent review pg58: the inner tests run on a throw-away PostgreSQL in a pytest
of their own (as tests/services/test_consent_races_on_postgresql.py does), and a worker is killed (SIGKILL) at a
chosen call."""
import os
import signal
import subprocess
import sys
import threading

from django.db import connection, transaction

from shoop_mailchimp.models import SyncKind
from shoop_mailchimp.sync import state
from tests.services.processes import ROOT


def run_inner_on_postgresql(path, postgres_port, expected_passed, expected_xfailed=0):
    env = dict(os.environ, SHOOP_MAILCHIMP_PG_PORT=str(postgres_port), PYTHONPATH=ROOT)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", "--ds", "tests.services.settings_pg",
         "-m", "not services", os.path.relpath(path, ROOT)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    output = finished.stdout.decode()
    assert finished.returncode == 0, output[-6000:]
    assert "%d passed" % expected_passed in output and "skipped" not in output, output[-2000:]
    assert ("%d xfailed" % expected_xfailed in output) if expected_xfailed else "xfailed" not in output, output[-2000:]


def in_a_worker_killed_at(run, module, name, when):
    """Runs ``run()`` (a drain) in a forked worker process; ``module.name`` is wrapped so that the worker is killed
    with SIGKILL as it is called with arguments for which ``when(*args, **kwargs)`` holds (``when`` None: never
    killed). Returns whether the worker was killed."""
    connection.close()  # the child opens its own
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            original = getattr(module, name)

            def dying(*args, **kwargs):
                if when is not None and when(*args, **kwargs):
                    os.kill(os.getpid(), signal.SIGKILL)
                return original(*args, **kwargs)

            setattr(module, name, dying)
            run()
        finally:
            os._exit(0)
    _pid, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


class RowHeld(threading.Thread):
    """Shop B's transaction: records Ann's row there (as an order's save does), then fails and rolls back once
    told to."""

    def __init__(self, shop_id, contact_id):
        super().__init__()
        self.shop_id, self.contact_id = shop_id, contact_id
        self.locked, self.release = threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                state.record(self.shop_id, SyncKind.CONTACT, [self.contact_id])
                self.locked.set()
                self.release.wait(60)
                raise RuntimeError("the checkout's payment failed")
        except RuntimeError:
            pass
        finally:
            connection.close()
