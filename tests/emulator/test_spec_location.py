"""The OpenAPI description ships in the package; nothing is looked for outside it."""

import gzip
import hashlib
import json
import os
import re

import pytest
import requests

import shoop_mailchimp
from shoop_mailchimp.testing.emulator import DEMO_API_KEY, Emulator, SpecNotFound
from shoop_mailchimp.testing.emulator import spec as spec_module

PACKAGE_DIR = os.path.dirname(os.path.realpath(shoop_mailchimp.__file__))
README = os.path.join(os.path.dirname(spec_module.BUNDLED_SPEC_PATH), "README.rst")
PING_ONLY = {"openapi": "3.0.1", "paths": {"/ping": {"get": {"responses": {}}}}, "components": {}}


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv(spec_module.SPEC_ENV, raising=False)


def test_the_emulator_reads_the_description_inside_the_package(no_override):
    path = os.path.realpath(Emulator().spec.path)
    assert os.path.commonpath([path, PACKAGE_DIR]) == PACKAGE_DIR
    assert path == os.path.realpath(spec_module.BUNDLED_SPEC_PATH)


def test_a_description_next_to_the_working_directory_is_ignored(no_override, monkeypatch, tmp_path):
    """Only the package's own copy counts, wherever the process runs."""
    decoy = tmp_path / "outside" / "openapi" / os.path.basename(spec_module.BUNDLED_SPEC_PATH)
    decoy.parent.mkdir(parents=True)
    decoy.write_text(json.dumps(PING_ONLY))
    monkeypatch.chdir(tmp_path / "outside")
    assert spec_module.spec_path() == spec_module.BUNDLED_SPEC_PATH


def test_bundled_copy_matches_the_checksum_in_its_readme():
    with open(README, encoding="utf-8") as handle:
        documented = re.search(r"\b[0-9a-f]{64}\b", handle.read()).group(0)
    with gzip.open(spec_module.BUNDLED_SPEC_PATH, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == documented


@pytest.mark.parametrize("name", ["spec.json", "spec.json.gz"])
def test_env_var_names_another_description(monkeypatch, tmp_path, name):
    path = tmp_path / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        json.dump(PING_ONLY, handle)
    monkeypatch.setenv(spec_module.SPEC_ENV, str(path))
    spec = Emulator().spec
    assert spec.path == str(path)
    assert [route.key for route in spec.routes] == ["GET /ping"]


def test_env_var_naming_a_missing_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(spec_module.SPEC_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(SpecNotFound, match="missing.json"):
        Emulator()


def post_member_with_wrong_type(emulator):
    """A member whose ``vip`` is a string: the handler takes it, the description refuses it."""
    api_key = emulator.add_account(DEMO_API_KEY)
    list_id = emulator.add_list(api_key)
    body = {"email_address": "ann.lee@fastmail.com", "status": "subscribed", "vip": "yes"}
    return requests.post(f"{emulator.base_url}lists/{list_id}/members", json=body, auth=("x", api_key), timeout=5)


def test_without_the_validator_requests_are_routed_but_not_validated(no_override, monkeypatch):
    validating = Emulator().start()
    try:
        assert post_member_with_wrong_type(validating).status_code == 400
    finally:
        validating.stop()

    monkeypatch.setattr(spec_module, "OAS30Validator", None)
    with pytest.raises(ImportError, match=r"shoop-mailchimp\[emulator\]"):
        Emulator(require_spec=True)
    emulator = Emulator().start()
    try:
        assert post_member_with_wrong_type(emulator).status_code == 200
        unknown = requests.get(emulator.base_url + "nowhere", auth=("x", DEMO_API_KEY), timeout=5)
        assert unknown.status_code == 404
        assert [violation["path"] for violation in emulator.violations] == ["/nowhere"]
    finally:
        emulator.stop()
