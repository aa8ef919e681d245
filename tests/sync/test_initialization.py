import pytest
from django.core.management import CommandError, call_command
from shuup.core.models import ContactGroup
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.models import ContactGroupInterest, MailchimpConfiguration, MailchimpLogEntry
from tests.disconnect.conftest import connected  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_initialize_creates_store_category_and_interests_once(shop, fresh_configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    groups = [create_random_contact_group() for _ in range(3)]
    call_command("mailchimp_initialize", shop=shop.pk)
    call_command("mailchimp_initialize", shop=shop.pk)
    fresh_configuration.refresh_from_db()
    assert fresh_configuration.is_initialized
    assert fresh_configuration.account_checked_on == fresh_configuration.initialized_on, "the key was checked too"
    [store] = emulator.stores(api_key)
    assert store["id"] == fresh_configuration.store_id == MailchimpConfiguration.default_store_id(shop)
    assert store["list_id"] == list_id and store["currency_code"] == shop.currency
    [category] = emulator.interest_categories(api_key, list_id)
    assert category["title"] == "Contact Group"
    names = sorted(i["name"] for i in category["interests"])
    assert len(names) == len(set(names))
    assert {g.name for g in groups} <= set(names)
    assert ContactGroupInterest.objects.filter(shop=shop).count() == len(names)
    creates = [r for r in emulator.requests if r["method"] == "POST"]
    assert len([r for r in creates if r["path"] == "/ecommerce/stores"]) == 1


def test_missing_list_is_a_clear_error(shop, fresh_configuration):
    fresh_configuration.list_id = "nope123"
    fresh_configuration.save()
    with pytest.raises(InitializationError, match="audience 'nope123' does not exist"):
        initialize(fresh_configuration)
    fresh_configuration.refresh_from_db()
    assert not fresh_configuration.is_initialized
    assert MailchimpLogEntry.objects.filter(action="initialize", kind="error").exists()


def test_wrong_key_is_a_clear_error_without_the_key(shop, fresh_configuration):
    wrong = "0" * 32 + "-us9"
    fresh_configuration.api_key = wrong
    fresh_configuration.save()
    with pytest.raises(CommandError, match="API Key Invalid") as raised:
        call_command("mailchimp_initialize", shop=shop.pk)
    assert wrong not in str(raised.value)
    for entry in MailchimpLogEntry.objects.all():
        assert wrong not in entry.message and wrong not in str(entry.extra)


def test_key_is_encrypted_at_rest(shop, fresh_configuration):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_api_key FROM shoop_mailchimp_mailchimpconfiguration WHERE id = %s",
                       [fresh_configuration.pk])
        raw = cursor.fetchone()[0]
    assert raw and fresh_configuration.api_key not in raw
    assert MailchimpConfiguration.objects.get(pk=fresh_configuration.pk).api_key == fresh_configuration.api_key


def test_unconfigured_shop_command_error(shop):
    with pytest.raises(CommandError, match="no Mailchimp configuration"):
        call_command("mailchimp_initialize", shop=shop.pk)


def test_more_groups_than_an_audience_takes_stop_initialization_with_what_to_do(shop, fresh_configuration,
                                                                               mailchimp_account):
    for _number in range(61):
        create_random_contact_group()
    with pytest.raises(InitializationError, match="at most 60 interests, and 61 contact groups are chosen"):
        initialize(fresh_configuration)
    fresh_configuration.interest_group_ids = list(ContactGroup.objects.values_list("pk", flat=True)[:5])
    fresh_configuration.save()
    initialize(fresh_configuration)
    emulator, api_key, list_id = mailchimp_account
    assert len(emulator.interest_categories(api_key, list_id)[0]["interests"]) == 5


def _meanwhile(monkeypatch, change):
    """Run ``change`` while Initialize talks to Mailchimp (between its start and its final save)."""
    from shoop_mailchimp import initialization

    original = initialization.ensure_group_interests

    def ensure_group_interests(*args, **kwargs):
        change()
        return original(*args, **kwargs)

    monkeypatch.setattr(initialization, "ensure_group_interests", ensure_group_interests)


@pytest.mark.usefixtures("commits")
def test_double_opt_in_ticked_while_initialize_runs_is_kept(monkeypatch, connected):  # noqa: F811
    """The admin ticks "double opt-in" and saves while a re-Initialize runs: Initialize writes only the fields it
    owns, not back the copy it loaded (review aud)."""
    running = MailchimpConfiguration.objects.get(pk=connected.pk)  # the job's copy
    _meanwhile(monkeypatch, lambda: MailchimpConfiguration.objects.filter(pk=connected.pk).update(
        double_opt_in=True))
    initialize(running)
    stored = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert stored.double_opt_in is True
    assert stored.initialized_on == running.initialized_on > connected.initialized_on


@pytest.mark.usefixtures("commits")
def test_a_disconnect_pressed_while_initialize_runs_is_not_undone(monkeypatch, connected):  # noqa: F811
    """The admin presses Disconnect while an Initialize runs (the view cancels only a *queued* Initialize): the
    shop stays disconnected, and Initialize says so rather than "finished" (review aud)."""
    from django.utils import timezone

    running = MailchimpConfiguration.objects.get(pk=connected.pk)
    _meanwhile(monkeypatch, lambda: MailchimpConfiguration.objects.filter(pk=connected.pk).update(
        disconnected_on=timezone.now()))
    with pytest.raises(InitializationError, match="Disconnect was pressed while Initialize ran"):
        initialize(running)
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is not None


@pytest.mark.usefixtures("commits")
def test_initialize_and_a_group_send_find_interests_by_the_same_steps(monkeypatch, shop, fresh_configuration,
                                                                      mailchimp_account):
    """The interest category and the interests of a name are found (or created) by one set of steps of the group
    kind, which Initialize runs over its session and a group's plan yields: not written twice (review aud10)."""
    from shoop_mailchimp.sync.drainer import drain
    from shoop_mailchimp.sync.kinds import group as group_kind

    calls = []

    def spying(name, original):
        def spy(*args):
            calls.append(name)
            return (yield from original(*args))
        return spy

    for name in ("find_or_create_category", "interests_by_name", "create_interest"):
        monkeypatch.setattr(group_kind, name, spying(name, getattr(group_kind, name)))
    before = create_random_contact_group()
    initialize(fresh_configuration)
    assert calls == ["find_or_create_category", "interests_by_name", "create_interest"]
    del calls[:]
    after = create_random_contact_group()
    drain()
    assert calls == ["interests_by_name", "create_interest"]
    emulator, api_key, list_id = mailchimp_account
    [category] = emulator.interest_categories(api_key, list_id)
    assert {before.name, after.name} <= {interest["name"] for interest in category["interests"]}
