"""A copy of the sources as a fresh clone has them, and ports: free or in use."""

import os
import shutil
import socket
import subprocess

import pytest

from tests.services.servers import free_port  # noqa: F401  (the packaging tests' and benchmarks' too)

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: What a clone never has: made by make, the demo, builds and test runs.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv*", "var", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
    ".ruff_cache", ".hypothesis", ".tox", "_build",
)

def copy_sources(destination):
    """Copy the tracked and new (not ignored) files of this checkout, or the tree of an unpacked sdist."""
    if not os.path.exists(os.path.join(REPO_DIR, ".git")):
        shutil.copytree(REPO_DIR, destination, ignore=NOT_IN_A_CLONE)
        return destination
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_DIR, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = os.path.join(REPO_DIR, name)
        if os.path.isfile(source):  # a deleted file is still listed until committed
            os.makedirs(os.path.join(destination, os.path.dirname(name)), exist_ok=True)
            shutil.copy2(source, os.path.join(destination, name))
    return destination

def port_in_use(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0

@pytest.fixture
def sources(tmp_path):
    """A copy of the repository with nothing a run leaves behind (no var/, no .venv)."""
    return copy_sources(str(tmp_path / "clone"))
