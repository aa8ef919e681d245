"""Throw-away servers for the services tests and the benchmarks: each on a free local port."""
import shutil
import socket
import subprocess
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
