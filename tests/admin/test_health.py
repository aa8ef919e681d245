"""The health sentence, the deliveries chart, the live figures, the dashboard block and notifications."""

import pytest
from django.urls import reverse

from shoop_mailchimp.models import (
    BatchStatus,
    MailchimpBatch,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import run_due_jobs
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import make_all_due, new_person, staff_member, wait_for_batches

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def status_data(client):
    response = client.get(reverse("shuup_admin:shoop_mailchimp.status_data"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_the_health_says_the_most_urgent_thing_first(admin_client, configuration, mailchimp_account, settings):
    emulator, _api_key, _list_id = mailchimp_account
    new_person()
    assert status_data(admin_client)["health"]["key"] == "ok"
    emulator.faults.fail_email("refused.one@fastmail.com")
    new_person(email="refused.one@fastmail.com")
    health = status_data(admin_client)["health"]
    assert (health["key"], health["level"], health["headline"]) == ("failed", "warning", "1 item failed")
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    new_person()
    health = status_data(admin_client)["health"]
    assert health["key"] == "failed", "a failure outranks items on their way"
    SyncState.objects.filter(status=SyncStatus.FAILED).delete()
    assert status_data(admin_client)["health"]["headline"] == "Sending"
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason="Mailchimp refused the key")
    health = status_data(admin_client)["health"]
    assert (health["key"], health["level"]) == ("paused-reason", "danger")
    assert health["detail"] == "Mailchimp refused the key"
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(encrypted_api_key="")
    health = status_data(admin_client)["health"]
    assert health["key"] == "not-connected"
    assert health["detail"] == "Enter the API key in the Mailchimp block of the shop page.", "only the key is missing"


def test_an_outage_is_a_warning_that_retries_then_an_error_that_says_mailchimp_was_unavailable(
    admin_client, configuration, mailchimp_account
):
    emulator, _api_key, list_id = mailchimp_account
    emulator.faults.fail("/lists/%s/members/*" % list_id, status=503, title="Service Unavailable")
    person = new_person()
    health = status_data(admin_client)["health"]
    assert (health["key"], health["level"]) == ("retrying", "warning")
    assert "1 item waits for a retry" in health["detail"]
    retry = MailchimpLogEntry.objects.get(contact_id=person.pk, action="contact.sync")
    assert retry.kind == "warning" and retry.message.endswith("(tried again by itself)")
    SyncState.objects.filter(kind="contact", object_id=person.pk).update(attempts=7)
    make_all_due()
    drain()
    assert SyncState.objects.get(kind="contact", object_id=person.pk).status == SyncStatus.FAILED
    assert MailchimpLogEntry.objects.filter(contact_id=person.pk, kind="error").count() == 1, "one error, at the end"
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.failed")).content.decode()
    assert "Mailchimp could not take it on any of 8 attempts (Service Unavailable:" in html
    assert "refused" not in html.split('id="mailchimp-failed"')[1].split("</table>")[0]


def test_status_data_moves_with_the_sync_and_the_page_polls_it(admin_client, configuration, mailchimp_account,
                                                               settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    person = new_person()
    before = status_data(admin_client)
    assert before["counts"]["contact"]["pending"] >= 1
    drain()
    after = status_data(admin_client)
    assert after["counts"]["contact"]["pending"] == 0
    assert after["counts"]["contact"]["synced"] == before["counts"]["contact"]["synced"] + 1
    assert SyncState.objects.get(kind="contact", object_id=person.pk).status == SyncStatus.SYNCED
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert reverse("shuup_admin:shoop_mailchimp.status_data") in html and "setInterval(refresh" in html


def test_the_chart_counts_deliveries_and_failures_of_each_day(admin_client, configuration, mailchimp_account):
    emulator, _api_key, _list_id = mailchimp_account
    # The staff member's own contact, made by their first request, is sent before the bars are counted.
    admin_client.get(reverse("shuup_admin:shoop_mailchimp.status"))
    drain()
    MailchimpLogEntry.objects.all().delete()
    new_person()
    new_person()
    emulator.faults.fail_email("refused.two@fastmail.com")
    new_person(email="refused.two@fastmail.com")
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert html.count('class="mailchimp-day') == 14
    failed = MailchimpLogEntry.objects.filter(kind="error").count()  # each attempt that failed
    assert failed >= 1 and 'data-delivered="2" data-failed="%d"' % failed in html, "today's bar"
    assert html.count('data-delivered="0" data-failed="0"') == 13


def test_order_history_can_be_synced_from_the_admin(admin_client, shop, configuration, mailchimp_account, settings):
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, api_key, _list_id = mailchimp_account
    person = new_person()
    # History: orders placed before Mailchimp was connected (worker mode: nothing is sent meanwhile).
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_POLL_INTERVAL=0.05)
    product = create_product("history", shop=shop, supplier=get_default_supplier(), default_price=3)
    order = create_random_order(customer=person, products=[product], shop=shop, random_products=False)
    SyncState.objects.filter(kind__in=["order", "product"]).delete()
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.status")).content.decode()
    assert 'name="orders"' in html
    assert not emulator.orders(api_key, configuration.store_id)
    # Mailchimp takes its time: the first batches (products, contacts) do not finish before the job's own
    # look at them, whatever the order they were submitted in.
    emulator.batch_delay = 60  # held until the test lets it go
    admin_client.post(reverse("shuup_admin:shoop_mailchimp.sync_existing"), {"orders": "1"})
    run_due_jobs()  # the worker runs the job: the batches are submitted, none is polled yet
    submitted = status_data(admin_client)["bulk"]
    assert submitted["percent"] == 0 and "0 of " in submitted["text"], submitted
    emulator.batch_delay = 0
    for _round in range(20):
        if not MailchimpBatch.objects.filter(status__in=BatchStatus.OPEN).exists():
            break
        wait_for_batches(emulator, api_key)
        run_due_work()  # the worker polls the open batches
    assert [o["id"] for o in emulator.orders(api_key, configuration.store_id)] == [str(order.pk)]
    data = status_data(admin_client)
    assert data["bulk"]["percent"] == 100 and "batches finished" in data["bulk"]["text"]


def dashboard(client, shop):
    from shuup import configuration as shuup_configuration

    shuup_configuration.set(shop, "setup_wizard_complete", True)  # or the dashboard redirects to the wizard
    response = client.get(reverse("shuup_admin:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_shows_the_health_and_a_pause_is_a_notification(admin_client, configuration):
    html = dashboard(admin_client, configuration.shop)
    assert 'id="mailchimp-dashboard-block" data-key="ok"' in html
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason="<b>Mailchimp</b> refused the key")
    html = dashboard(admin_client, configuration.shop)
    assert 'data-key="paused-reason"' in html
    assert "Sending is paused: &lt;b&gt;Mailchimp&lt;/b&gt; refused the key" in html, "a notification, escaped"
    assert "<b>Mailchimp</b>" not in html


def test_the_dashboard_says_nothing_to_those_who_may_not_see_mailchimp(client, configuration):
    client.force_login(staff_member(configuration.shop, "clerk", ["dashboard"]))
    assert "mailchimp-dashboard-block" not in dashboard(client, configuration.shop)


def test_the_dashboard_says_nothing_for_a_shop_without_mailchimp(admin_client, shop):
    assert "mailchimp-dashboard-block" not in dashboard(admin_client, shop)


def test_a_sync_that_found_nothing_to_send_says_so(admin_client, configuration, mailchimp_account):
    from shuup.core.models import Contact

    from shoop_mailchimp.sync import state

    new_person()
    admin_client.get(reverse("shuup_admin:shoop_mailchimp.status"))  # Shuup gives the admin a contact
    state.record(configuration.shop_id, "contact", Contact.objects.values_list("pk", flat=True))
    drain()  # every contact is sent: nothing is left for a sync of existing contacts
    assert status_data(admin_client)["bulk"]["text"] == "No sync of existing contacts has run."
    admin_client.post(reverse("shuup_admin:shoop_mailchimp.sync_existing"), {"orders": "1"})
    assert status_data(admin_client)["bulk"]["text"] == (
        "The last sync found nothing to send: Every contact, product and order had already been sent.")
