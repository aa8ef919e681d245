"""Before the first Initialize the shop owner sees what it will do to the audience, and it then does that."""
from datetime import timedelta

import pytest
from shuup.core.models import ContactGroup, PersonContact

from shoop_mailchimp.initialize_preview import is_confirmed, preview_params
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpConfiguration, MailchimpJob
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from tests.helpers import send_due

pytestmark = pytest.mark.django_db


def person(email, permission):
    return PersonContact.objects.create(first_name="Pat", last_name="Example", email=email,
                                        marketing_permission=permission)


def run_preview(configuration):
    job = request_job(configuration.shop_id, JobKind.PREVIEW_INITIALIZE, **preview_params(configuration))
    run_due_jobs(configuration.shop_id)
    job.refresh_from_db()
    return job


def test_the_preview_counts_what_initialize_and_the_first_sync_then_do(fresh_configuration, mailchimp_account,
                                                                        settings):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator.add_members(api_key, list_id, ["left.us@fastmail.com"], status="unsubscribed")
    emulator.add_members(api_key, list_id, ["fan@fastmail.com", "stranger@fastmail.com"])
    person("Left.Us@fastmail.com", True)  # unsubscribed in Mailchimp: stays so, despite the shop's consent
    person("fan@fastmail.com", False)  # subscribed in Mailchimp: stays so
    new_subscribers = [person("new.%d@fastmail.com" % n, True) for n in range(2)]
    buyer = person("buyer@fastmail.com", False)
    person("", True)
    person("not-an-address", True)
    for name in ("VIP", "Wholesale"):
        ContactGroup.objects.create(identifier=name.lower(), name=name, shop=fresh_configuration.shop)

    job = run_preview(fresh_configuration)

    assert job.status == JobStatus.DONE, job.message
    figures = job.result
    assert (figures["members"], figures["member_statuses"]) == (3, {"subscribed": 2, "unsubscribed": 1})
    assert figures["contacts"] == {"existing_member": 2, "subscribed": 2, "pending": 0, "transactional": 1,
                                   "shared_address": 0, "no_consent": 0, "no_address": 1, "invalid_address": 1}
    assert (figures["groups"], figures["too_many_groups"], figures["store_exists"]) == (2, False, False)
    assert not MailchimpConfiguration.objects.get(pk=fresh_configuration.pk).is_initialized, "a preview creates nothing"
    assert emulator.stores(api_key) == []

    assert is_confirmed(fresh_configuration, job.pk)
    request_job(fresh_configuration.shop_id, JobKind.INITIALIZE)
    run_due_jobs(fresh_configuration.shop_id)
    fresh_configuration.refresh_from_db()
    assert fresh_configuration.is_active
    bulk.sync_existing(fresh_configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)  # contacts without consent: the batch read their members first, the worker sends them next

    statuses = {m["email_address"]: m["status"] for m in emulator.members(api_key, list_id)}
    assert statuses.pop("left.us@fastmail.com") == "unsubscribed"
    assert statuses.pop("fan@fastmail.com") == "subscribed"
    assert statuses.pop("stranger@fastmail.com") == "subscribed"
    new = sorted(statuses.values())
    assert new.count("subscribed") == figures["contacts"]["subscribed"]
    assert new.count("transactional") == figures["contacts"]["transactional"]
    assert statuses[buyer.email] == "transactional"
    assert {p.email for p in new_subscribers} <= set(statuses)
    assert len(emulator.interest_categories(api_key, list_id)[0]["interests"]) == figures["groups"]
    assert emulator.get_store(api_key, figures["store_id"])["list_id"] == list_id


def test_a_preview_of_another_audience_confirms_nothing(fresh_configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    job = run_preview(fresh_configuration)
    assert is_confirmed(fresh_configuration, job.pk)
    assert not is_confirmed(fresh_configuration, job.pk + 1)
    assert not is_confirmed(fresh_configuration, "")
    fresh_configuration.list_id = emulator.add_list(api_key, name="Another")
    fresh_configuration.save()
    assert not is_confirmed(fresh_configuration, job.pk), "the figures were of the audience before"


def test_a_store_of_another_audience_and_too_many_groups_are_shown_before_anything_happens(
        fresh_configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    other = emulator.add_list(api_key, name="Other")
    store_id = MailchimpConfiguration.default_store_id(fresh_configuration.shop)
    with MailchimpSession(api_key) as session:
        session.post("ecommerce/stores", {"id": store_id, "list_id": other, "name": "Elsewhere",
                                          "currency_code": "EUR"})
    for number in range(61):
        ContactGroup.objects.create(identifier="g%d" % number, name="G%d" % number, shop=fresh_configuration.shop)

    figures = run_preview(fresh_configuration).result

    assert (figures["store_exists"], figures["store_list_id"]) == (True, other)
    assert (figures["groups"], figures["too_many_groups"]) == (61, True)


def test_a_wrong_key_or_audience_fails_the_preview_clearly(fresh_configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    fresh_configuration.list_id = "gone"
    fresh_configuration.save()
    job = run_preview(fresh_configuration)
    assert job.status == JobStatus.FAILED and "does not exist" in job.message
    emulator.revoke_key(api_key)
    fresh_configuration.list_id = list_id
    fresh_configuration.save()
    job = run_preview(fresh_configuration)
    assert job.status == JobStatus.FAILED and "refused the API key" in job.message
    assert api_key not in job.message
    assert MailchimpJob.objects.filter(kind=JobKind.INITIALIZE).count() == 0


def test_the_command_prints_the_preview_and_changes_nothing(fresh_configuration, mailchimp_account):
    import io
    import json

    from django.core.management import call_command

    emulator, api_key, _list_id = mailchimp_account
    person("someone@fastmail.com", True)
    out = io.StringIO()
    call_command("mailchimp_initialize", "--shop", str(fresh_configuration.shop_id), "--preview", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["contacts"]["subscribed"] == 1 and figures["store_exists"] is False
    assert emulator.stores(api_key) == []
    assert not MailchimpConfiguration.objects.get(pk=fresh_configuration.pk).is_initialized


def test_archived_members_and_shared_addresses_are_counted_as_the_sync_treats_them(fresh_configuration,
                                                                                    mailchimp_account, settings):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator.add_members(api_key, list_id, ["gone.once@fastmail.com"], status="archived")
    person("gone.once@fastmail.com", True)  # an archived member is an existing one: left archived
    person("shared@fastmail.com", True)
    person("Shared@fastmail.com", False)  # the same member as the one above
    person("unsent.shared@fastmail.com", False)

    figures = run_preview(fresh_configuration).result["contacts"]

    assert (figures["existing_member"], figures["subscribed"], figures["shared_address"],
            figures["transactional"]) == (1, 1, 1, 1)
    request_job(fresh_configuration.shop_id, JobKind.INITIALIZE)
    run_due_jobs(fresh_configuration.shop_id)
    bulk.sync_existing(fresh_configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)  # contacts without consent: the batch read their members first, the worker sends them next
    statuses = {m["email_address"].lower(): m["status"] for m in emulator.members(api_key, list_id)}
    assert statuses["gone.once@fastmail.com"] == "archived"  # nor brought back by its customer
    assert len(statuses) == 3  # gone.once, shared (one member for two contacts), unsent.shared


def test_a_preview_made_with_other_settings_confirms_nothing(fresh_configuration, mailchimp_account):
    job = run_preview(fresh_configuration)
    assert is_confirmed(fresh_configuration, job.pk)
    fresh_configuration.double_opt_in = True
    fresh_configuration.save()
    assert not is_confirmed(fresh_configuration, job.pk), "its figures were counted without double opt-in"
    fresh_configuration.double_opt_in = False
    fresh_configuration.save()
    assert is_confirmed(fresh_configuration, job.pk)
    MailchimpJob.objects.filter(pk=job.pk).update(finished_on=job.finished_on - timedelta(days=2))
    assert not is_confirmed(fresh_configuration, job.pk), "counted too long ago"
