"""Real services for the tests marked ``services``: a Redis server and a PostgreSQL cluster of their own.

Each needs its Debian package (``scripts/system-deps`` installs them); a test is skipped otherwise, and
fails under ``make test`` (see :func:`tests.helpers.missing`).
"""
import pytest

from tests.helpers import missing
from tests.services.servers import start_postgres, start_redis


@pytest.fixture
def redis_url():
    started = start_redis()
    if started is None:
        missing("redis-server is not installed")
    url, process = started
    try:
        yield url
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def postgres_port():
    started = start_postgres()
    if started is None:
        missing("PostgreSQL is not installed")
    port, stop = started
    try:
        yield port
    finally:
        stop()
