import json

import pytest
from django.urls import reverse
from shuup.core.models import Shop, ShopStatus
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, MailchimpLogEntry, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import messages_of, url
from tests.helpers import new_person, preview_and_initialize, row_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_initialize_is_post_only_and_reports_success(admin_client, shop, mailchimp_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    config = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    status_page = admin_client.get(url("status")).content.decode()
    assert 'action="%s"' % url("initialize", pk=shop.pk) in status_page
    assert admin_client.get(url("initialize", pk=shop.pk)).status_code == 405
    response = preview_and_initialize(admin_client, shop)
    assert "Initialization is queued" in " ".join(messages_of(response))
    assert response["Location"] == url("status")
    # Run by the drainer after the request's commit (here synchronously, as the tests' drainer does).
    config.refresh_from_db()
    assert config.is_initialized
    assert emulator.get_store(api_key, config.store_id)["list_id"] == list_id
    html = admin_client.get(url("status")).content.decode()
    assert 'class="mailchimp-job-done"' in html and "Mailchimp is initialized" in html


def test_initialize_error_is_shown_on_the_status_page(admin_client, shop, mailchimp_settings, mailchimp_account):
    _emulator, api_key, _list_id = mailchimp_account
    MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id="gone")
    admin_client.post(url("initialize", pk=shop.pk))
    assert not MailchimpConfiguration.objects.get(shop=shop).is_initialized
    html = admin_client.get(url("status")).content.decode()
    assert 'id="mailchimp-preview-failed"' in html and "The audience gone does not exist" in html
    assert 'name="confirm_preview"' not in html, "nothing to confirm"


def test_initialize_needs_csrf(shop, client, admin_user, mailchimp_settings, mailchimp_account):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(admin_user)
    assert csrf_client.post(url("initialize", pk=shop.pk)).status_code == 403


def test_status_page_counts_and_last_error(admin_client, configuration, mailchimp_account):
    emulator, _api_key, _list_id = mailchimp_account
    synced = [new_person(), new_person()]
    emulator.faults.fail_email("broken@fastmail.com")
    broken = new_person(email="broken@fastmail.com")
    assert {row_of(c).status for c in synced} == {SyncStatus.SYNCED}
    assert row_of(broken).status == SyncStatus.FAILED
    html = admin_client.get(url("status")).content.decode()
    # The admin user's own contact may be synced too, depending on what ran before.
    synced_count = SyncState.objects.filter(kind="contact", status=SyncStatus.SYNCED).count()
    assert synced_count >= 2
    assert '<td class="count-synced">%d</td>' % synced_count in html
    assert '<td class="count-failed">1</td>' in html
    assert 'id="mailchimp-last-error"' in html and "looks fake or invalid" in html
    assert "nothing is overdue" in html


def test_status_page_shows_pause_prominently(admin_client, configuration):
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason="401 API Key Invalid")
    html = admin_client.get(url("status")).content.decode()
    assert 'id="mailchimp-paused-reason"' in html and "401 API Key Invalid" in html


def test_status_page_tells_when_mailchimp_throttles(admin_client, configuration, mailchimp_account, settings):
    emulator, _api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", RETRY_BASE_DELAY=60)
    assert 'id="mailchimp-throttled"' not in admin_client.get(url("status")).content.decode()
    new_person()
    emulator.faults.fail("/lists/*/members/*", status=429, times=1)
    assert drain()["postponed"]
    html = admin_client.get(url("status")).content.decode()
    assert 'id="mailchimp-throttled"' in html and "Mailchimp asked to slow down" in html
    assert "sending is held back until Mailchimp" in html, html[html.index("mailchimp-throttled"):][:800]
    # Throttling is worded as slowing down, never as a pause (a pause is an account problem an admin repairs).
    entry = MailchimpLogEntry.objects.get(action="sync.throttled")
    assert entry.message.startswith("Mailchimp asked to slow down: sending is held back until its retry time")
    assert "pause" not in html[html.index('id="mailchimp-throttled"'):][:600].lower()


def test_status_page_tells_when_no_worker_drains(admin_client, configuration, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    person = new_person()
    SyncState.objects.filter(object_id=person.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    html = admin_client.get(url("status")).content.decode()
    assert "1 item has waited too long to be sent: is a drainer running" in html


def test_sync_existing_contacts_queues_only_unknown_ones(admin_client, shop, mailchimp_settings, mailchimp_account,
                                                        settings):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BATCH_POLL_INTERVAL=0)
    early = [new_person(), new_person()]  # saved before Mailchimp was set up: never queued
    config = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    preview_and_initialize(admin_client, shop)
    config.refresh_from_db()
    assert config.is_active and not SyncState.objects.filter(kind="contact").exists()
    assert admin_client.get(url("sync_existing")).status_code == 405
    response = admin_client.post(url("sync_existing"))
    from shuup.core.models import Contact

    total = Contact.objects.count()
    assert "queued" in " ".join(messages_of(response))
    rounds = 0
    while any(row_of(person).status != SyncStatus.SYNCED for person in early):
        rounds += 1
        assert rounds < 200
        run_due_work()  # the drainer's rounds poll the batch
    for person in early:
        assert emulator.get_member(api_key, list_id, person.email)
    html = admin_client.get(url("status")).content.decode()
    assert "%d items queued for Mailchimp in 1 batch." % total in html
    admin_client.post(url("sync_existing"))
    html = admin_client.get(url("status")).content.decode()
    assert "Every contact and product had already been sent." in html


def test_send_pending_reports_outcomes(admin_client, configuration, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    person = new_person()
    assert row_of(person).status == SyncStatus.PENDING
    response = admin_client.post(url("send_pending"))
    assert "will be tried now" in " ".join(messages_of(response))
    run_due_work()  # the worker
    assert row_of(person).status == SyncStatus.SYNCED


def picotable(client, **query):
    query = dict({"perPage": 50, "page": 1}, **query)
    response = client.get(url("log"), {"jq": json.dumps(query)})
    assert response.status_code == 200
    return response.json()


def test_log_list_answers_picotable_json_with_filters(admin_client, configuration, mailchimp_account):
    emulator, _api_key, _list_id = mailchimp_account
    person = new_person()
    emulator.faults.fail_email("broken@fastmail.com")
    broken = new_person(email="broken@fastmail.com")
    assert admin_client.get(url("log")).status_code == 200
    data = picotable(admin_client)
    assert data["pagination"]["nItems"] == MailchimpLogEntry.objects.filter(shop=configuration.shop).count()
    assert {column["id"] for column in data["columns"]} >= {"created_on", "kind", "action", "message"}
    errors = picotable(admin_client, filters={"kind": "error"})["items"]
    assert errors and all(item["kind"] == "error" for item in errors)
    broken_link = '<a href="%s">%s</a>' % (reverse("shuup_admin:contact.detail", kwargs={"pk": broken.pk}), broken.name)
    assert broken_link in [item["contact_id"] for item in errors], "the contact is named and linked"
    assert {item["action"] for item in errors} == {"Contact not sent"}, "actions read as words"
    by_action = picotable(admin_client, filters={"action": "contact.sent"})["items"]
    # Shuup gives the admin user a contact too, which may be sent as well.
    assert by_action and {item["action"] for item in by_action} == {"Contact sent"}
    assert any(person.name in item["contact_id"] for item in by_action)
    by_text = picotable(admin_client, filters={"message": "looks fake"})["items"]
    assert by_text and all("looks fake" in item["message"] for item in by_text)
    for value in (broken.email.upper(), broken.name):
        found = picotable(admin_client, filters={"contact_id": value})["items"]
        assert found and all(broken.name in item["contact_id"] for item in found), value
    # An id also matches names with those digits ("Ann264" for 4): the contact's own entries are among them.
    by_id = picotable(admin_client, filters={"contact_id": str(broken.pk)})["items"]
    assert broken_link in [item["contact_id"] for item in by_id]


def test_log_names_and_links_orders_and_filters_by_order_number(admin_client, shop, configuration, mailchimp_account):
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    person = new_person()
    product = create_product("log-sku", shop=shop, supplier=get_default_supplier(), default_price=10)
    order = create_random_order(customer=person, products=[product], shop=shop, random_products=False)
    other = create_random_order(customer=person, products=[product], shop=shop, random_products=False)
    found = picotable(admin_client, filters={"order_id": order.identifier})["items"]
    [sent] = [item for item in found if item["action"] == "Order sent"]
    assert sent["order_id"] == '<a href="%s">%s</a>' % (
        reverse("shuup_admin:order.detail", kwargs={"pk": order.pk}), order.identifier)
    assert not [item for item in found if item["order_id"].endswith(">%s</a>" % other.identifier)]
    entry = MailchimpLogEntry.objects.get(order_id=order.pk, action="order.send")
    html = admin_client.get(url("log.detail", pk=entry.pk)).content.decode()
    assert "Order sent (order.send)" in html
    assert reverse("shuup_admin:order.detail", kwargs={"pk": order.pk}) in html


def test_hostile_contact_names_in_the_log_are_escaped(admin_client, configuration, mailchimp_account):
    person = new_person(first_name="<img src=x onerror=alert(1)>", last_name="&amp;")
    items = picotable(admin_client, filters={"action": "contact.sent"})["items"]
    [cell] = [item["contact_id"] for item in items if str(person.pk) in item["contact_id"]]
    assert "<img" not in cell and "&lt;img src=x onerror=alert(1)&gt;" in cell and "&amp;amp;" in cell


def test_log_detail_pretty_prints_mailchimps_problem(admin_client, configuration, mailchimp_account):
    emulator, _api_key, _list_id = mailchimp_account
    emulator.faults.fail_email("broken@fastmail.com")
    broken = new_person(email="broken@fastmail.com")
    entry = MailchimpLogEntry.objects.filter(contact_id=broken.pk, kind=LogKind.ERROR).first()
    html = admin_client.get(url("log.detail", pk=entry.pk)).content.decode()
    assert 'id="mailchimp-log-extra"' in html
    assert '&#34;status&#34;: 400' in html or '"status": 400' in html
    assert "Invalid Resource" in html


def test_failed_list_resend_one_and_all(admin_client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    emulator.faults.fail_email("one@fastmail.com")
    emulator.faults.fail_email("two@fastmail.com")
    one, two = new_person(email="one@fastmail.com"), new_person(email="two@fastmail.com")
    html = admin_client.get(url("failed")).content.decode()
    one_state, two_state = row_of(one), row_of(two)
    assert 'id="failed-%d"' % two_state.pk in html and "two@fastmail.com" in html
    assert 'id="failed-%d"' % one_state.pk in html and "one@fastmail.com" in html and "looks fake" in html
    assert str(one) in html
    assert "It is not tried again by itself. Correct the contact&#39;s e-mail address or name" in html
    assert "<summary>Technical detail</summary>" in html and "<code>400 Invalid Resource</code>" in html
    emulator.faults.clear()
    assert admin_client.get(url("resend")).status_code == 405
    admin_client.post(url("resend"), {"state": one_state.pk})
    assert row_of(one).status == SyncStatus.SYNCED
    assert row_of(two).status == SyncStatus.FAILED
    assert emulator.get_member(api_key, list_id, "one@fastmail.com")
    admin_client.post(url("resend"))
    assert row_of(two).status == SyncStatus.SYNCED
    assert 'id="mailchimp-no-failed"' in admin_client.get(url("failed")).content.decode()


def test_a_retrying_contact_says_when_it_is_tried_again_and_that_nothing_needs_doing(
    admin_client, configuration, mailchimp_account
):
    emulator, _api_key, list_id = mailchimp_account
    emulator.faults.fail("/lists/%s/members/*" % list_id, status=503, title="Service Unavailable")
    person = new_person()
    state = row_of(person)
    assert state.status == SyncStatus.PENDING and state.attempts == 1
    html = admin_client.get(reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk})).content.decode()
    assert "Not delivered yet: Service Unavailable:" in html
    assert "It is tried again by itself at" in html and "nothing needs doing" in html
    assert "<code>503 Service Unavailable</code>" in html and "[PUT" not in html


def test_a_failed_order_says_what_to_check(admin_client, shop, configuration, mailchimp_account):
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    emulator, _api_key, _list_id = mailchimp_account
    emulator.faults.fail("/ecommerce/stores/*/orders*", status=400, title="Invalid Resource", method="POST")
    product = create_product("refused", shop=shop, supplier=get_default_supplier(), default_price=3)
    order = create_random_order(customer=new_person(), products=[product], shop=shop, random_products=False)
    order_state = SyncState.objects.get(kind="order", object_id=order.pk)
    assert order_state.status == SyncStatus.FAILED
    html = admin_client.get(url("failed")).content.decode()
    assert 'id="failed-%d"' % order_state.pk in html and order.identifier in html
    assert "Check the order&#39;s customer and products, then press Resend." in html


def test_contact_section_and_sync_now(admin_client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    person = new_person()
    group.members.add(person)
    detail = reverse("shuup_admin:contact.detail", kwargs={"pk": person.pk})
    html = admin_client.get(detail).content.decode()
    assert 'id="mailchimp-contact-section"' in html
    assert "synced" in html and "Contact sent" in html
    assert url("sync_contact", pk=person.pk) in html
    emulator.faults.fail_email("later@fastmail.com")
    late = new_person(email="later@fastmail.com")
    assert row_of(late).status == SyncStatus.FAILED
    emulator.faults.clear()
    emulator.clear_requests()
    response = admin_client.post(url("sync_contact", pk=late.pk))
    assert response.status_code == 302
    assert "The contact is queued for Mailchimp" in " ".join(messages_of(response))
    assert row_of(late).status == SyncStatus.SYNCED  # the drainer ran after the request's commit
    html = admin_client.get(reverse("shuup_admin:contact.detail", kwargs={"pk": late.pk})).content.decode()
    assert "synced" in html
    assert emulator.get_member(api_key, list_id, late.email)["status"] == "subscribed"


def test_staff_without_permission_gets_nothing(client, configuration):
    user = staff_member(configuration.shop, "nopermission", [])
    client.force_login(user)
    entry = log_event(configuration.shop_id, "test", "secret shop 1 entry")
    for page in (url("status"), url("log"), url("failed"), url("log.detail", pk=entry.pk)):
        response = client.get(page)
        assert response.status_code == 400, "Shuup answers a missing permission with its problem page"
        assert b"secret shop 1 entry" not in response.content and b"mailchimp-counts" not in response.content
    assert client.post(url("send_pending")).status_code == 400
    assert client.post(url("initialize", pk=configuration.shop.pk)).status_code == 400
    edit = client.get(reverse("shuup_admin:shop.edit", kwargs={"pk": configuration.shop.pk}))
    assert b"mailchimp-api_key" not in edit.content


def test_second_shops_staff_sees_only_their_shop(client, configuration, settings):
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    shop2 = Shop.objects.create(identifier="second", name="Second", status=ShopStatus.ENABLED)
    user = staff_member(shop2, "second", [VIEW_PERMISSION, MANAGE_PERMISSION])
    client.force_login(user)
    entry = log_event(configuration.shop_id, "test", "secret shop 1 entry")
    new_person()
    html = client.get(url("status")).content.decode()
    assert '<td class="count-synced">0</td>' in html
    assert client.get(url("log.detail", pk=entry.pk)).status_code == 404
    assert picotable(client)["pagination"]["nItems"] == 0
    assert client.post(url("initialize", pk=configuration.shop.pk)).status_code == 404
    emulator_state = SyncState.objects.filter(shop=configuration.shop, status=SyncStatus.SYNCED).count()
    client.post(url("resend"))
    assert SyncState.objects.filter(shop=configuration.shop, status=SyncStatus.SYNCED).count() == emulator_state


def test_a_failed_group_is_named_and_linked(admin_client, configuration, mailchimp_account):
    emulator, _api_key, _list_id = mailchimp_account
    emulator.faults.fail("/lists/*/interest-categories/*/interests*", status=400, title="Invalid Resource",
                         method="POST")
    group = create_random_contact_group(shop=configuration.shop)
    group.name = "<b>VIP</b> buyers"
    group.save()
    group_state = SyncState.objects.get(kind="group", object_id=group.pk)
    assert group_state.status == SyncStatus.FAILED
    html = admin_client.get(url("failed")).content.decode()
    link = '<a href="%s">&lt;b&gt;VIP&lt;/b&gt; buyers</a>' % reverse("shuup_admin:contact_group.edit",
                                                                       kwargs={"pk": group.pk})
    assert link in html
    assert "Check the group&#39;s name and the audience&#39;s groups in Mailchimp, then press Resend." in html


def test_the_log_date_filter_includes_its_last_day(admin_client, configuration, mailchimp_account):
    from django.utils import timezone

    new_person()
    today = timezone.localdate().isoformat()
    total = MailchimpLogEntry.objects.filter(shop=configuration.shop).count()
    for dates in ({"min": today, "max": today}, {"max": today}, {"min": today}):
        assert picotable(admin_client, filters={"created_on": dates})["pagination"]["nItems"] == total, dates
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    assert picotable(admin_client, filters={"created_on": {"max": yesterday}})["pagination"]["nItems"] == 0


def test_a_failed_product_is_named_linked_and_counted(admin_client, shop, configuration, mailchimp_account):
    """The kinds the admin once had no names for: a refused product is named (escaped) and linked to its page,
    with what to check; the status page counts every kind's rows."""
    from shuup.testing.factories import create_product, get_default_supplier

    emulator, _api_key, _list_id = mailchimp_account
    emulator.faults.fail("/ecommerce/stores/*/products*", status=400, title="Invalid Resource", method="POST")
    product = create_product("refused-product", shop=shop, supplier=get_default_supplier(), default_price=3)
    product.set_current_language("en")
    product.name = "<i>Mug</i>"
    product.save()
    product_state = SyncState.objects.get(kind="product", object_id=product.pk)
    assert product_state.status == SyncStatus.FAILED
    html = admin_client.get(url("failed")).content.decode()
    shop_product = product.get_shop_instance(shop)
    assert '<a href="%s">&lt;i&gt;Mug&lt;/i&gt;</a>' % reverse("shuup_admin:shop_product.edit",
                                                             kwargs={"pk": shop_product.pk}) in html
    assert "Check the product&#39;s name, price and images, then press Resend." in html
    status = admin_client.get(url("status")).content.decode()
    for kind in ("group", "contact", "product", "order", "cart", "promo"):
        assert 'class="counts-%s"' % kind in status
    row = status[status.index('class="counts-product"'):]
    assert '<td class="count-failed">1</td>' in row[:row.index("</tr>")]
