"""Real services for the tests marked ``services``: a Redis server and a PostgreSQL cluster of their own.

Each needs its Debian package (``scripts/system-deps`` installs them); a test is skipped otherwise.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d" % port)


@pytest.fixture
def redis_url():
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed (scripts/system-deps installs it)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield "redis://127.0.0.1:%d/0" % port
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
