"""pytest fixtures around the Mailchimp emulator; any spec violation fails the test that caused it.

Load with ``pytest_plugins = ["shoop_mailchimp.testing.pytest_plugin"]``. No Django here.

Every rule of :mod:`shoop_mailchimp.testing.emulator.rules` is on (the emulator is as strict as
Mailchimp). A ``conftest.py`` may override the ``mailchimp_emulator_rules_off`` fixture to switch
some off for the tests below it; a test may call ``emulator.set_rule(...)`` itself.
``SHOOP_MAILCHIMP_EMULATOR_RULES_ON`` (``all`` or comma-separated rule names) keeps rules on
even where a conftest switches them off: run the suite with it to see what a rule would break.
``SHOOP_MAILCHIMP_EMULATOR_BATCH_SEED`` fixes the shuffled order of batch operations; a failing
test's report shows the seed it ran with.
"""

import json
import os

import pytest

from shoop_mailchimp.testing.emulator import Emulator, rules

BATCH_SEED_ENV = "SHOOP_MAILCHIMP_EMULATOR_BATCH_SEED"
RULES_ON_ENV = "SHOOP_MAILCHIMP_EMULATOR_RULES_ON"


def _forced_on():
    value = os.environ.get(RULES_ON_ENV, "").strip()
    if value == "all":
        return set(rules.RULES)
    return rules.check_names(name.strip() for name in value.split(",") if name.strip())


@pytest.fixture(scope="session")
def mailchimp_emulator_server():
    """One emulator server per test session (the spec is loaded once)."""
    emulator = Emulator(require_spec=True).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def mailchimp_emulator_rules_off():
    """Names of emulator rules to switch off for a test: none here; override in a conftest.py."""
    return frozenset()


@pytest.fixture
def mailchimp_emulator(request, mailchimp_emulator_server, mailchimp_emulator_rules_off):
    """The session emulator, reset; the test fails if it sent any request the spec refuses."""
    emulator = mailchimp_emulator_server
    emulator.reset()
    for rule in set(mailchimp_emulator_rules_off) - _forced_on():
        emulator.set_rule(rule, False)
    seed = os.environ.get(BATCH_SEED_ENV)
    emulator.set_batch_seed(int(seed) if seed else None)
    request.node.mailchimp_batch_seed = emulator.batch_seed
    yield emulator
    violations = list(emulator.violations)
    emulator.faults.clear()
    if violations:
        pytest.fail(
            "Requests refused by the Mailchimp OpenAPI spec:\n" + json.dumps(violations, indent=2),
            pytrace=False,
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    seed = getattr(item, "mailchimp_batch_seed", None)
    if report.failed and seed is not None:
        report.sections.append(
            ("Mailchimp emulator", f"batch operations shuffled with seed {seed} (set {BATCH_SEED_ENV}={seed})")
        )


@pytest.fixture
def mailchimp_account(mailchimp_emulator):
    """``(emulator, api_key, list_id)`` for a fresh account with one audience."""
    api_key = mailchimp_emulator.add_account()
    list_id = mailchimp_emulator.add_list(api_key, name="Test audience")
    return mailchimp_emulator, api_key, list_id
