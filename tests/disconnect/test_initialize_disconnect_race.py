"""A Disconnect (deleting the store) pressed while an Initialize runs (review aud3).

The jobs of one shop run one at a time (``sync.jobs._claim``): a second drainer does not run the DISCONNECT job while
the INITIALIZE job runs; and an Initialize run outside the jobs (a management command) that finds the shop
disconnected meanwhile stops before creating a store."""
import pytest

from shoop_mailchimp import initialization
from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpConfiguration, MailchimpJob
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from tests.disconnect.conftest import connected  # noqa: F401  (fixture)
from tests.disconnect.test_disconnect import disconnect

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_a_store_deleted_by_a_disconnect_during_initialize_is_not_created_again(
        monkeypatch, admin_client, connected, mailchimp_account):  # noqa: F811
    """The admin re-Initializes, then presses Disconnect and confirms the store's deletion; a second drainer runs
    the DISCONNECT job while the Initialize is checking the audience. The log says the store was deleted and the
    shop is disconnected (store_deleted_on set: "another audience may be chosen now"), yet the Initialize goes on,
    finds no store and POSTs a new one: Mailchimp holds a store for a shop that is disconnected and believes it has
    none (choosing another audience then fails: "the store already exists for another audience")."""
    emulator, api_key, list_id = mailchimp_account
    running = MailchimpConfiguration.objects.get(pk=connected.pk)  # the Initialize job's copy
    original = initialization.resources.get_list

    def get_list_while_disconnect_runs(session, list_id):
        answer = original(session, list_id)
        if not MailchimpConfiguration.objects.get(pk=connected.pk).disconnected_on:
            assert disconnect(admin_client, connected.store_id).status_code == 302
            run_due_jobs(connected.shop_id)  # the other drainer
            assert emulator.get_store(api_key, connected.store_id) is None
        return answer

    monkeypatch.setattr(initialization.resources, "get_list", get_list_while_disconnect_runs)
    with pytest.raises(InitializationError):
        initialize(running)
    stored = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert stored.disconnected_on and stored.store_deleted_on
    assert emulator.get_store(api_key, connected.store_id) is None, "a store re-created for a disconnected shop"


def test_a_disconnect_job_waits_for_the_initialize_job_of_its_shop(
        monkeypatch, admin_client, connected, mailchimp_account):  # noqa: F811
    """The same race with both as jobs: the second drainer leaves the DISCONNECT queued while the INITIALIZE job
    runs; it runs after, and deletes the store the Initialize checked (the Initialize, seeing the shop disconnected,
    stops before the store)."""
    emulator, api_key, list_id = mailchimp_account
    original = initialization.resources.get_list
    inner = []

    def get_list_while_disconnect_is_pressed(session, list_id):
        answer = original(session, list_id)
        if not inner:
            assert disconnect(admin_client, connected.store_id).status_code == 302
            inner.append(run_due_jobs(connected.shop_id))  # the other drainer
            assert MailchimpJob.objects.get(kind=JobKind.DISCONNECT).status == JobStatus.QUEUED
            assert emulator.get_store(api_key, connected.store_id) is not None
        return answer

    monkeypatch.setattr(initialization.resources, "get_list", get_list_while_disconnect_is_pressed)
    request_job(connected.shop_id, JobKind.INITIALIZE, **connected.site_params)
    assert run_due_jobs(connected.shop_id) == 2
    assert inner == [0]
    initialize_job = MailchimpJob.objects.get(kind=JobKind.INITIALIZE)
    # The Disconnect pressed wins: the Initialize stops before the store, and says so.
    assert initialize_job.status == JobStatus.FAILED
    assert initialize_job.message.startswith("The shop was disconnected while Initialize ran")
    assert MailchimpJob.objects.get(kind=JobKind.DISCONNECT).status == JobStatus.DONE
    stored = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert stored.disconnected_on and stored.store_deleted_on
    assert emulator.get_store(api_key, connected.store_id) is None
