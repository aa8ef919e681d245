import pytest
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils import translation
from shuup.core import cache as shuup_cache
from shuup.core.models import Shop, ShopStatus
from shuup.gdpr.models import get_setting as gdpr_settings
from shuup.testing.factories import get_default_shop

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync import delivery, rounds
from shoop_mailchimp.sync.rounds import run_due_work
from tests.reliability import registry

# The shared background drainer never runs a thread in the test process, even between tests (a commit in a
# session fixture, a request a live server answers after its test): such a thread's rounds touch the database
# of later tests ("database is locked" in their teardown, found in CI). Each test gets the synchronous
# stand-in below; tests of the thread itself build their own drainer (tests/sync/test_delivery_modes.py).
delivery.background_drainer.start = lambda: None
delivery.background_drainer.wake = lambda: None


def pytest_terminal_summary(terminalreporter):
    """The reliability figures of the whole run (see tests/reliability/registry.py)."""
    if registry.FIGURES:
        terminalreporter.write_line(registry.summary_line())


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: its figures go to the controller
        session.config.workeroutput["reliability_figures"] = dict(registry.FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    registry.FIGURES.update(getattr(node, "workeroutput", {}).get("reliability_figures", {}))


# A test with transaction=True ends by emptying every table, then Django sends post_migrate, whose
# create_permissions writes a Permission row for each model and create_contenttypes a ContentType row:
# most of that teardown. Nothing here reads the permissions (Shuup keeps its admin permissions in its
# configuration), and a content type is created when first asked for (see fresh_content_types).
post_migrate.disconnect(create_permissions, dispatch_uid="django.contrib.auth.management.create_permissions")
post_migrate.disconnect(create_contenttypes)



def no_disk_waits(sender, connection, **kwargs):
    """The test database is thrown away after the run: SQLite need not wait for the disk at each commit,
    which was most of a test's time where it commits often. Locking between connections is unchanged."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")


connection_created.connect(no_disk_waits, dispatch_uid="tests.no_disk_waits")


@pytest.fixture(autouse=True)
def fresh_content_types():
    """The previous test may have emptied the table: content types cached from before would name rows that
    no longer exist."""
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def default_language(settings):
    """The test client leaves the last request's language active in its thread (a Finnish storefront request,
    say): the next test's shop would be named in that language only."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def clean_shuup_caches():
    """Shuup caches configuration between tests; without this settings leak and admin logins fail. Shuup's GDPR
    settings are cached per process (an lru_cache holding the instance a test turns on)."""
    cache.clear()
    shuup_cache.init_cache()
    gdpr_settings.cache_clear()
    yield
    cache.clear()
    gdpr_settings.cache_clear()


@pytest.fixture(autouse=True)
def no_throttling_pauses(monkeypatch):
    """A 429 in one test pauses its shop (the same id in every test) for this process; not in the next test."""
    monkeypatch.setattr(limits, "_local_throttles", {})


class CoalescedWakes:
    """The synchronous stand-in of the drainer's wake-up. The real drainer serves the wake-ups that came while it
    was idle with one round: a commit whose transaction recorded several changes (each registers a wake-up)
    costs one or two rounds, not one each. Here a wake-up runs its round right away, unless this thread's
    database connection wrote nothing since the last round of this test ended (SQLite's ``total_changes``):
    that round saw the same rows, and sent what was due then; what the next commit records wakes a round again.
    Elsewhere (PostgreSQL) every wake-up runs its round."""

    def __init__(self):
        self.seen = {}  # {id of the DB-API connection: its total_changes as the last round ended}

    @staticmethod
    def _changes():
        raw = connections[DEFAULT_DB_ALIAS].connection
        changes = getattr(raw, "total_changes", None)
        return None if changes is None else (id(raw), changes)

    def __call__(self):
        before = self._changes()
        if before is not None and self.seen.get(before[0]) == before[1]:
            return
        run_due_work(woken=True)
        after = self._changes()
        if after is not None:
            self.seen[after[0]] = after[1]


@pytest.fixture(autouse=True)
def synchronous_drainer(monkeypatch):
    """Deterministic delivery: a commit that wakes the background drainer runs its round right away, in
    the test's thread (wake-ups with nothing written since the last round coalesced, as the real drainer's are:
    :class:`CoalescedWakes`); no drainer thread is started. Tests of the thread itself undo this."""
    monkeypatch.setattr(delivery.background_drainer, "wake", CoalescedWakes())
    monkeypatch.setattr(delivery.background_drainer, "start", lambda: None)
    # Each test's first woken round looks at what time makes due, as a new process's does.
    monkeypatch.setattr(rounds, "_last_timed_work", [None])


@pytest.fixture
def commits(db, monkeypatch):
    """Each block of the code that would commit runs its on-commit callbacks as it ends, inside the test's
    transaction that is rolled back after the test: a test that needs the callbacks (a save wakes the drainer
    on commit) but not the data seen from another connection, without ``transaction=True`` (whose teardown
    empties every table). As in autocommit: a callback registered outside any block of the code runs at once;
    one of a block rolled back never runs (Django drops it with the savepoint). Not for a test whose data a
    thread, a process or a live server reads: those need ``transaction=True``.

    (Django 2.2 has no ``TestCase.captureOnCommitCallbacks``, so no ``django_capture_on_commit_callbacks``.)"""
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        return  # a test with ``transaction=True`` (in a module using this fixture): its commits are real
    test_depth = len(connection.savepoint_ids)

    def run_callbacks():
        """As Django's commit runs them: those registered until now, in order; a callback's own blocks run
        theirs as they end."""
        if len(connection.savepoint_ids) != test_depth or connection.needs_rollback:
            return
        pending, connection.run_on_commit = connection.run_on_commit, []
        while pending:
            pending.pop(0)[1]()  # (savepoint ids, callback)

    atomic_exit, on_commit = transaction.Atomic.__exit__, type(connection).on_commit

    def exit_and_commit(self, *exc_info):
        result = atomic_exit(self, *exc_info)
        if transaction.get_connection(self.using) is connection:
            run_callbacks()
        return result

    def on_commit_and_run(self, func):
        on_commit(self, func)
        if self is connection:
            run_callbacks()

    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_and_commit)
    monkeypatch.setattr(type(connection), "on_commit", on_commit_and_run)


@pytest.fixture
def shop(db):
    return get_default_shop()


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's, with an address Mailchimp takes: Shuup gives the user a contact on its first admin
    request, and Mailchimp refuses pytest-django's admin@example.com as fake."""
    return django_user_model.objects.create_superuser("admin", "shop.admin@fastmail.com", "password")


@pytest.fixture
def admin_client(shop, client, admin_user):
    """Logged in after the default shop exists (Shuup's login signal needs a shop)."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def mailchimp_settings(settings, mailchimp_emulator):
    """Aim the app at the emulator (the base URL setting is the only switch)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, API_BASE_URL=mailchimp_emulator.base_url)
    return settings.SHOOP_MAILCHIMP


@pytest.fixture
def worker_delivery(mailchimp_settings, settings):
    """Sends go only where the test drains (no background drainer started by the fixtures' commits): list it before
    the fixtures that save."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")


@pytest.fixture
def fresh_configuration(shop, mailchimp_settings, mailchimp_account):
    """An enabled configuration for the default shop on a fresh emulator account, not yet initialized."""
    emulator, api_key, list_id = mailchimp_account
    return MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)


@pytest.fixture
def configuration(shop, mailchimp_settings, mailchimp_account):
    """An enabled, initialized configuration for the default shop, on a fresh emulator account."""
    emulator, api_key, list_id = mailchimp_account
    config = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    initialize(config)
    config.refresh_from_db()
    return config


@pytest.fixture
def shared_contacts(settings):
    """Several shops sharing their contacts (``SHUUP_MANAGE_CONTACTS_PER_SHOP`` off), as most multi-shop Shuups do."""
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = False


@pytest.fixture
def shop_b(shared_contacts, configuration, mailchimp_account):
    """A second shop sharing the default shop's contacts, with its own storefront (``b.example.com``) and audience,
    recording since before the test, on single opt-in: ``(shop, its audience's id)``."""
    emulator, api_key, _list_id = mailchimp_account
    shop = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", domain="b.example.com",
                               status=ShopStatus.ENABLED, currency=configuration.shop.currency,
                               prices_include_tax=configuration.shop.prices_include_tax)
    list_b = emulator.add_list(api_key, name="Shop B audience")
    initialize(MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_b, enabled=True))
    return shop, list_b


@pytest.fixture
def shop_without_domain(shop):
    shop.domain = None
    shop.save()
    return shop


@pytest.fixture
def cart_settings(settings, shop_without_domain, configuration):
    """An initialized configuration whose carts' restore links point at STOREFRONT (tests/cart_helpers.py): the
    shop has no domain (a shop's own domain comes first) from before its initialization, STOREFRONT_BASE_URL
    names it."""
    from tests.cart_helpers import STOREFRONT

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL=STOREFRONT)
    return configuration
