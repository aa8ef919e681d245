"""The wheel and the sdist, built and the wheel installed as a user would, away from this checkout."""

import os
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile

import pytest
import requests

from shoop_mailchimp.testing.emulator import DEMO_API_KEY
from tests.services.servers import free_port

from .conftest import copy_sources

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(600)]

SPEC = "shoop_mailchimp/testing/emulator/openapi/marketing-3.0.85.openapi.json.gz"


@pytest.fixture(scope="module")
def distributions(tmp_path_factory):
    """``(wheel, sdist, source directory)`` built from a copy of the sources."""
    source = copy_sources(str(tmp_path_factory.mktemp("source") / "shoop-mailchimp"))
    outdir = str(tmp_path_factory.mktemp("dist"))
    # --no-isolation: this environment's setuptools and wheel, so nothing is downloaded.
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", outdir, source],
                   check=True, capture_output=True)
    built = sorted(os.listdir(outdir))
    wheel = next(name for name in built if name.endswith(".whl"))
    sdist = next(name for name in built if name.endswith(".tar.gz"))
    return os.path.join(outdir, wheel), os.path.join(outdir, sdist), source


def test_wheel_installs_the_app_only(distributions):
    wheel = distributions[0]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = archive.read("shoop_mailchimp-0.1.0.dist-info/top_level.txt").decode().split()
    assert top_level == ["shoop_mailchimp"]
    assert {name.split("/")[0] for name in names} == {"shoop_mailchimp", "shoop_mailchimp-0.1.0.dist-info"}
    for expected in (SPEC, "shoop_mailchimp/testing/emulator/openapi/LICENSE",
                     "shoop_mailchimp/testing/emulator/openapi/README.rst",
                     "shoop_mailchimp/templates/shoop_mailchimp/admin/status.jinja",
                     "shoop_mailchimp/locale/fi/LC_MESSAGES/django.mo",
                     "shoop_mailchimp/migrations/0001_initial.py", "shoop_mailchimp/testing/pytest_plugin.py"):
        assert expected in names


def test_sdist_holds_what_make_test_needs(distributions):
    _, sdist, source = distributions
    with tarfile.open(sdist) as archive:
        members = {member.name.split("/", 1)[1]: member for member in archive.getmembers() if "/" in member.name}
    expected_here = [
        "tests/conftest.py", "tests/settings.py", "tests/packaging/test_distribution.py", SPEC, "Makefile",
        "constraints.txt", "pyproject.toml", "tox.ini", "setup.py", "demo/run.py", "docs/conf.py",
        "benchmarks/run.py", ".ci/run",
    ]
    for name in expected_here:
        assert name in members, name
    assert members["scripts/find-python38"].mode & 0o111, "make calls it: it must stay executable"
    tests_in_source = {
        os.path.relpath(os.path.join(folder, name), source)
        for folder, _, names in os.walk(os.path.join(source, "tests")) for name in names if name.endswith(".py")
    }
    assert tests_in_source <= set(members)


def run(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_installed_wheel_serves_the_emulator_and_its_pytest_plugin(distributions, tmp_path):
    wheel, _, source = distributions
    venv = str(tmp_path / "venv")
    run([sys.executable, "-m", "venv", venv])
    python = os.path.join(venv, "bin", "python")
    # shuup 3.1.0's metadata is refused by pip 24.1 and later (see the Makefile).
    run([python, "-m", "pip", "install", "-q", "pip==24.0"])
    install = [python, "-m", "pip", "install", "-q", "-c", os.path.join(source, "constraints.txt")]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    describe = "from shoop_mailchimp.testing.emulator import Emulator; e = Emulator(); print(e.validating, e.spec.path)"

    run(install + [wheel, "pytest"])
    validating, where = run([python, "-c", describe], cwd=str(outside), env=env).split()
    assert validating == "False"  # a plain install imports and serves, unvalidated
    assert where.startswith(os.path.join(venv, "lib")) and where.endswith(".json.gz")

    run(install + [wheel + "[emulator]"])
    assert run([python, "-c", describe], cwd=str(outside), env=env).split()[0] == "True"
    assert "openapi-core" not in run([python, "-m", "pip", "freeze"], env=env).lower()

    port = free_port()
    emulator = subprocess.Popen([python, "-m", "shoop_mailchimp.testing.emulator", "--port", str(port),
                                 "--require-spec"], cwd=str(outside), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert ping(port) == 200
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)

    (outside / "test_with_the_plugin.py").write_text(textwrap.dedent('''
        import requests

        def test_ping(mailchimp_account):
            emulator, api_key, _ = mailchimp_account
            response = requests.get(emulator.base_url + "ping", auth=("x", api_key), timeout=5)
            assert response.status_code == 200
    '''))
    output = run([python, "-m", "pytest", "-q", "-p", "shoop_mailchimp.testing.pytest_plugin",
                  "test_with_the_plugin.py"], cwd=str(outside), env=env)
    assert "1 passed" in output


def ping(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get("http://127.0.0.1:%d/3.0/ping" % port, auth=("x", DEMO_API_KEY), timeout=2).status_code
        except requests.ConnectionError:
            time.sleep(0.2)
    return None
