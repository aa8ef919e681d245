"""Real services for the tests marked ``services``: a Redis server and a PostgreSQL cluster of their own.

Each needs its Debian package (``scripts/system-deps`` installs them); a test is skipped otherwise.
"""
import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.services.servers import free_port, start_redis


@pytest.fixture
def redis_url():
    started = start_redis()
    if started is None:
        pytest.skip("redis-server is not installed (scripts/system-deps installs it)")
    url, process = started
    try:
        yield url
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def postgres_port():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("PostgreSQL is not installed (scripts/system-deps installs it)")
    bin_dir = os.path.dirname(binaries[-1])
    data = tempfile.mkdtemp(prefix="shoop-mailchimp-pg-")
    # PostgreSQL refuses to run as root: run it as nobody then.
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if as_user:
        os.chmod(data, 0o777)
        shutil.chown(data, "nobody")
    port = free_port()
    cluster = os.path.join(data, "cluster")
    subprocess.run(as_user + [os.path.join(bin_dir, "initdb"), "-D", cluster, "-A", "trust", "-U", "postgres"],
                   check=True, stdout=subprocess.DEVNULL)
    options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" % (port, data)
    subprocess.run(as_user + [os.path.join(bin_dir, "pg_ctl"), "-D", cluster, "-o", options, "-w", "-l",
                              os.path.join(data, "log"), "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield port
    finally:
        subprocess.run(as_user + [os.path.join(bin_dir, "pg_ctl"), "-D", cluster, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)
