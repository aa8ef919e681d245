"""Disconnect through the admin, run by the drainer against the emulator; reconnect with Initialize."""
import pytest
from django.test import Client
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION
from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import (
    BatchStatus,
    JobKind,
    JobStatus,
    LogKind,
    MailchimpBatch,
    MailchimpConfiguration,
    MailchimpJob,
    MailchimpLogEntry,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import messages_of, post_shop_form, shop_edit_url, url
from tests.helpers import member_writes, new_person, place_order, registered_webhooks, row_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def disconnect(client, store_id=None):
    data = {"mailchimp_delete_store_id": store_id} if store_id is not None else {}
    return client.post(url("disconnect"), data)


def job(kind):
    return MailchimpJob.objects.filter(kind=kind).first()


def reconnect(client, shop):
    """"Save and initialize Mailchimp" on the shop page, as the disconnected section says."""
    response = post_shop_form(client, shop, initialize="1")
    assert response.status_code == 302
    return response


def test_disconnect_deletes_the_webhook_and_keeps_the_store_and_audience(admin_client, admin_user, connected,
                                                                          mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    assert row_of(person).status == SyncStatus.SYNCED
    shop_page = admin_client.get(shop_edit_url(connected.shop)).content.decode()
    assert 'id="mailchimp-disconnect" formaction="%s" formmethod="post"' % url("disconnect") in shop_page
    assert 'id="mailchimp-delete-store"' not in shop_page, "the store's deletion is the second step"

    response = disconnect(admin_client)
    assert response.status_code == 302
    assert "The webhook is deleted in Mailchimp in a moment" in " ".join(messages_of(response))
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.disconnected_on and not configuration.is_active
    assert not MailchimpConfiguration.objects.active().exists()
    assert registered_webhooks(emulator, api_key, list_id) == []
    assert configuration.webhook_id == ""
    assert emulator.get_store(api_key, connected.store_id) is not None, "kept without the second confirmation"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert job(JobKind.DISCONNECT).status == JobStatus.DONE
    audit = MailchimpLogEntry.objects.get(action="disconnect")
    assert audit.user == admin_user and audit.kind == LogKind.INFO
    assert "audience and its members are kept" in audit.message
    assert MailchimpLogEntry.objects.filter(action="disconnect.request", user=admin_user).exists()

    # While disconnected: changes are recorded, nothing is sent.
    emulator.clear_requests()
    person.first_name = "Changed"
    person.save()
    newcomer = new_person()
    run_due_work()
    assert emulator.requests == []
    assert row_of(person).status == SyncStatus.PENDING and row_of(newcomer).status == SyncStatus.PENDING
    page = admin_client.get(url("status")).content.decode()
    assert 'data-key="disconnected"' in page

    reconnect(admin_client, connected.shop)
    configuration.refresh_from_db()
    assert configuration.disconnected_on is None and configuration.is_active
    assert [hook["id"] for hook in registered_webhooks(emulator, api_key, list_id)] == [configuration.webhook_id]
    assert row_of(person).status == SyncStatus.SYNCED and row_of(newcomer).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["FNAME"] == "Changed"
    assert emulator.get_member(api_key, list_id, newcomer.email)["status"] == "subscribed"
    assert MailchimpLogEntry.objects.filter(action="reconnect").exists()


def test_the_store_goes_only_on_the_typed_confirmation_and_comes_back_with_everything(
        admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    store_id = connected.store_id
    buyer = new_person()
    order, _products = place_order(connected.shop, buyer)
    leaver = new_person()
    withdrawer = new_person()
    assert len(emulator.orders(api_key, store_id)) == 1

    response = disconnect(admin_client, store_id="not-the-store")
    assert "type its id (%s) exactly; nothing was deleted" % store_id in " ".join(messages_of(response))
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is None
    assert not MailchimpJob.objects.filter(kind=JobKind.DISCONNECT).exists()

    disconnect(admin_client)
    section = admin_client.get(url("status")).content.decode()
    shop_page = admin_client.get(shop_edit_url(connected.shop)).content.decode()
    assert 'id="mailchimp-disconnected"' in shop_page and 'id="mailchimp-delete-store"' in shop_page
    assert 'id="mailchimp-disconnect"' not in shop_page
    assert 'data-key="disconnected"' in section
    customers = {c["email_address"] for c in emulator.customers(api_key, store_id)}
    assert customers >= {buyer.email, leaver.email}
    disconnect(admin_client, store_id=store_id)
    assert emulator.get_store(api_key, store_id) is None
    assert registered_webhooks(emulator, api_key, list_id) == []
    # The audience stays, members and their statuses with it.
    assert {member["email_address"] for member in emulator.members(api_key, list_id)} >= {buyer.email, leaver.email}
    assert MailchimpLogEntry.objects.filter(action="store.delete").exists()
    assert "the store %s was deleted" % store_id in MailchimpJob.objects.filter(
        kind=JobKind.DISCONNECT).first().message

    # Meanwhile in Mailchimp the leaver unsubscribes: no webhook tells the shop. In the shop, the withdrawer
    # takes back consent.
    _member, deliveries = emulator.fire_event(api_key, list_id, "unsubscribe", leaver.email)
    assert deliveries == []
    withdrawer.marketing_permission = False
    withdrawer.save()

    reconnect(admin_client, connected.shop)
    store = emulator.get_store(api_key, store_id)
    assert store is not None and store["list_id"] == list_id
    assert {c["email_address"] for c in emulator.customers(api_key, store_id)} == customers
    assert [o["id"] for o in emulator.orders(api_key, store_id)] == [str(order.pk)]
    # Consent: the unsubscribe made while disconnected is read back, never undone.
    assert emulator.get_member(api_key, list_id, leaver.email)["status"] == "unsubscribed"
    assert PersonContact.objects.get(pk=leaver.pk).marketing_permission is False
    assert emulator.get_member(api_key, list_id, buyer.email)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, withdrawer.email)["status"] == "unsubscribed"
    assert all('"status": "subscribed"' not in str(put["body"]) for put in member_writes(emulator, leaver.email))


def test_a_store_already_gone_and_a_refused_key_still_disconnect_and_say_what_was_not_deleted(
        admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.delete_store(api_key, connected.store_id)
    disconnect(admin_client, store_id=connected.store_id)
    finished = job(JobKind.DISCONNECT)
    assert finished.status == JobStatus.DONE
    assert "the store %s was already gone from Mailchimp" % connected.store_id in finished.message

    MailchimpJob.objects.all().delete()
    initialize(MailchimpConfiguration.objects.get(pk=connected.pk))  # connected again: a webhook to delete
    assert len(registered_webhooks(emulator, api_key, list_id)) == 1
    emulator.revoke_key(api_key)
    disconnect(admin_client)
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.disconnected_on is not None, "disconnected in the shop all the same"
    finished = job(JobKind.DISCONNECT)
    assert finished.status == JobStatus.FAILED
    assert finished.message.startswith("Disconnected in the shop (nothing is sent), but the webhook could not be "
                                       "deleted")
    page = admin_client.get(url("status")).content.decode()
    assert "the webhook could not be deleted" in page
    shop_page = admin_client.get(shop_edit_url(connected.shop)).content.decode()
    assert "Delete the webhook in Mailchimp again" in shop_page

    # The key works again: pressing it again deletes the webhook.
    emulator.accounts[api_key].revoked = False
    disconnect(admin_client)
    assert registered_webhooks(emulator, api_key, list_id) == []
    assert MailchimpJob.objects.first().status == JobStatus.DONE
    shop_page = admin_client.get(shop_edit_url(connected.shop)).content.decode()
    assert "Delete the webhook in Mailchimp again" not in shop_page
    for text in [page, finished.message] + list(MailchimpLogEntry.objects.values_list("message", flat=True)):
        assert api_key not in text and api_key.split("-")[0] not in text



def test_an_audience_deleted_in_mailchimp_leaves_no_webhook_to_delete(admin_client, connected, mailchimp_account):
    """The audience was deleted in Mailchimp (its webhooks with it): its webhook listing answers 404. The disconnect
    is done, says the audience is gone, and asks for nothing more in Mailchimp."""
    emulator, api_key, list_id = mailchimp_account
    emulator.delete_list(api_key, list_id)
    disconnect(admin_client)
    finished = job(JobKind.DISCONNECT)
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.disconnected_on is not None
    assert finished.status == JobStatus.DONE, finished.message
    assert "the webhook could not be deleted" not in finished.message, finished.message
    assert "the audience %s is gone from Mailchimp" % list_id in finished.message
    assert configuration.webhook_id == ""
    assert MailchimpLogEntry.objects.filter(action="webhook.delete",
                                            message__contains="is gone from Mailchimp").exists()
    shop_page = admin_client.get(shop_edit_url(connected.shop)).content.decode()
    assert "Delete the webhook in Mailchimp again" not in shop_page


@pytest.mark.parametrize("status", [429, 503])
def test_a_store_deletion_refused_for_a_moment_is_done_by_pressing_again(admin_client, connected,
                                                                          mailchimp_account, status):
    """Mailchimp throttles (429) or fails (503) the DELETE of the store: the shop is disconnected all the same, the
    store is kept and said so; pressing again deletes it, and a reconnect creates it again with the contacts."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    disconnect(admin_client)
    emulator.faults.fail("/ecommerce/stores/*", status=status, method="DELETE", times=1)
    disconnect(admin_client, store_id=connected.store_id)
    assert MailchimpJob.objects.filter(kind=JobKind.DISCONNECT).order_by("-pk").first().status == JobStatus.FAILED
    assert emulator.get_store(api_key, connected.store_id) is not None
    assert MailchimpConfiguration.objects.get(pk=connected.pk).store_deleted_on is None
    disconnect(admin_client, store_id=connected.store_id)
    assert emulator.get_store(api_key, connected.store_id) is None
    assert MailchimpConfiguration.objects.get(pk=connected.pk).store_deleted_on is not None
    reconnect(admin_client, connected.shop)
    assert emulator.get_store(api_key, connected.store_id) is not None
    assert len(registered_webhooks(emulator, api_key, list_id)) == 1
    assert row_of(person).status == "synced"

def test_open_batches_stop_and_their_contacts_are_sent_on_reconnect(settings, admin_client, connected,
                                                                     mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_POLL_INTERVAL=3600)
    people = [new_person() for _ in range(3)]
    # Never seen by the sync, as in a shop connecting years of customers (see tests/bulk/conftest.py).
    SyncState.objects.filter(kind="contact", object_id__in=[person.pk for person in people]).delete()
    run_due_work()
    rows, batches = bulk.start(connected.shop_id)
    assert rows >= 3 and MailchimpBatch.objects.filter(status=BatchStatus.SUBMITTED).count() == batches == 1
    batch_id = MailchimpBatch.objects.get().batch_id

    disconnect(admin_client)
    run_due_work()  # worker mode: the request only queued the job
    assert MailchimpBatch.objects.get().status == BatchStatus.CANCELLED
    assert all(row_of(person).lease_until <= timezone.now() for person in people)  # due again
    assert any(r["method"] == "DELETE" and r["path"].endswith("/batches/%s" % batch_id) for r in emulator.requests)
    assert MailchimpLogEntry.objects.filter(action="bulk.cancel").exists()

    reconnect(admin_client, connected.shop)
    run_due_work()
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)
    hashes = {subscriber_hash(member["email_address"]) for member in emulator.members(api_key, list_id)}
    assert {subscriber_hash(person.email) for person in people} <= hashes


def test_only_managers_disconnect_by_post_with_csrf(client, shop, admin_user, connected):
    viewer = staff_member(shop, "viewer", {VIEW_PERMISSION})
    client.force_login(viewer)
    assert client.post(url("disconnect")).status_code == 400  # Shuup's refusal page
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is None
    manager = staff_member(shop, "manager", {VIEW_PERMISSION, MANAGE_PERMISSION})
    client.force_login(manager)
    assert client.get(url("disconnect")).status_code == 405
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(manager)
    assert csrf_client.post(url("disconnect")).status_code == 403
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is None
    assert client.post(url("disconnect")).status_code == 302
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is not None
    assert MailchimpLogEntry.objects.get(action="disconnect").user == manager


def test_a_disconnect_supersedes_work_queued_before_it(settings, admin_client, connected, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    admin_client.post(url("initialize", pk=connected.shop_id))
    admin_client.post(url("rotate_webhook_secret"))
    disconnect(admin_client)
    run_due_work()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is not None
    assert registered_webhooks(emulator, api_key, list_id) == []
    superseded = MailchimpJob.objects.filter(kind__in=(JobKind.INITIALIZE, JobKind.MOVE_WEBHOOK))
    assert {job.status for job in superseded} == {JobStatus.FAILED}
    assert all("disconnected from Mailchimp before it started" in job.message for job in superseded)


def test_nothing_to_disconnect_before_initialize(admin_client, shop, mailchimp_settings, mailchimp_account):
    response = disconnect(admin_client)
    assert "not connected to Mailchimp" in " ".join(messages_of(response))
    assert not MailchimpJob.objects.exists()


def test_a_disconnected_shop_creates_no_merge_field_in_mailchimp(admin_client, connected, mailchimp_account):
    """The shop page no longer offers to create merge fields, and a creation queued before the disconnect writes
    nothing (review19 finding 10)."""
    emulator, api_key, list_id = mailchimp_account
    request_job(connected.shop_id, JobKind.CHECK_ACCOUNT)
    run_due_jobs(connected.shop_id)
    assert 'name="mailchimp-create_merge_fields"' in admin_client.get(shop_edit_url(connected.shop)).content.decode()
    queued = request_job(connected.shop_id, JobKind.CREATE_MERGE_FIELDS, fields=["customer_since"])
    disconnect(admin_client)
    assert MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on is not None
    assert not {"SINCE", "SPENT"} & {field["tag"] for field in emulator.merge_fields(api_key, list_id)}
    emulator.clear_requests()

    assert 'name="mailchimp-create_merge_fields"' not in admin_client.get(
        shop_edit_url(connected.shop)).content.decode()
    response = post_shop_form(admin_client, connected.shop, create_merge_fields="total_spent")
    assert response.status_code == 302
    run_due_jobs(connected.shop_id)

    writes = [r for r in emulator.requests if r["method"] != "GET"]
    assert writes == [], "the disconnected shop wrote to Mailchimp: %s" % [(r["method"], r["path"]) for r in writes]
    queued.refresh_from_db()
    assert queued.status == JobStatus.FAILED and "disconnected" in queued.message


@pytest.mark.parametrize("kind, params", [
    (JobKind.CHECK_ACCOUNT, {}), (JobKind.SYNC_EXISTING, {"orders": True}),
    (JobKind.MOVE_WEBHOOK, {"old_webhook_id": "x"}), (JobKind.RECONCILE, {"full": True}),
    (JobKind.PREVIEW_INITIALIZE, {}),
    (JobKind.CREATE_MERGE_FIELDS, {"fields": ["total_spent"]}),
])
def test_no_job_but_initialize_and_disconnect_writes_to_mailchimp_while_disconnected(admin_client, connected,
                                                                                     mailchimp_account, kind, params):
    emulator = mailchimp_account[0]
    new_person()
    disconnect(admin_client)
    emulator.clear_requests()
    request_job(connected.shop_id, kind, **params)
    run_due_jobs(connected.shop_id)
    writes = [(r["method"], r["path"]) for r in emulator.requests if r["method"] != "GET"]
    assert writes == [], "%s wrote to Mailchimp while disconnected: %s" % (kind, writes)
