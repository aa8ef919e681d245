"""Throw-away servers for the services tests and the benchmarks: each on a free local port."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


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


def start_redis():
    """A redis-server without persistence (Debian's package, see scripts/system-deps): (url, process),
    or None when it is not installed."""
    binary = shutil.which("redis-server")
    if not binary:
        return None
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        raise
    return "redis://127.0.0.1:%d/0" % port, process


def start_postgres():
    """A PostgreSQL cluster of its own, fsync off (Debian's package, see scripts/system-deps): (port, stop),
    or None when it is not installed. Its superuser is ``postgres``, trusted on 127.0.0.1."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        return None
    bin_dir = os.path.dirname(binaries[-1])
    data = tempfile.mkdtemp(prefix="shoop-mailchimp-pg-")
    # PostgreSQL refuses to run as root: run it as nobody then.
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if as_user:
        os.chmod(data, 0o777)
        shutil.chown(data, "nobody")
    cluster = os.path.join(data, "cluster")
    subprocess.run(as_user + [os.path.join(bin_dir, "initdb"), "-D", cluster, "-A", "trust", "-U", "postgres"],
                   check=True, stdout=subprocess.DEVNULL)
    log = os.path.join(data, "log")
    # Another throw-away server may take the free port before the cluster binds it: a new port then.
    for _ in range(3):
        port = free_port()
        options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" % (port, data)
        started = subprocess.run(as_user + [os.path.join(bin_dir, "pg_ctl"), "-D", cluster, "-o", options, "-w",
                                            "-l", log, "start"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if started.returncode == 0:
            break
    else:
        told = open(log, errors="replace").read()[-2000:] if os.path.exists(log) else ""
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError("PostgreSQL did not start: %s %s" % (started.stderr.decode(errors="replace"), told))

    def stop():
        subprocess.run(as_user + [os.path.join(bin_dir, "pg_ctl"), "-D", cluster, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)

    return port, stop
