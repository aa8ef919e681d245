import pytest
from shuup.core.models import Contact
from shuup.testing.factories import create_random_person

from shoop_mailchimp.models import LogKind, MailchimpLogEntry, SyncKind, SyncState
from tests.webhooks.helpers import mailchimp_form, post_event, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def make_contact(permission=True, email=None):
    person = create_random_person()
    if email:
        person.email = email
    person.marketing_permission = permission
    person.save()  # delivered to the emulator right after commit
    return person


def state_of(contact):
    return SyncState.objects.get(kind=SyncKind.CONTACT, object_id=contact.pk)


def webhook_entries():
    return MailchimpLogEntry.objects.filter(action__startswith="webhook.").exclude(action="webhook.register")


def test_get_and_head_with_the_secret_answer_200(client, configuration):
    assert client.get(webhook_path(configuration)).status_code == 200
    assert client.head(webhook_path(configuration)).status_code == 200
    assert not webhook_entries().exists()


def test_wrong_missing_secret_or_unknown_shop_is_forbidden_and_changes_nothing(client, configuration):
    contact = make_contact(permission=True)
    paths = [
        webhook_path(configuration, secret="not-the-secret"),
        webhook_path(configuration, secret=configuration.webhook_secret[:-1]),
        "/mailchimp/webhook/%s/" % configuration.shop_id,
        "/mailchimp/webhook/%s/%s/" % (configuration.shop_id + 1000, configuration.webhook_secret),
    ]
    form = mailchimp_form("unsubscribe", configuration.list_id, email=contact.email)
    for path in paths:
        assert client.post(path, form).status_code == 403, path
        assert client.get(path).status_code == 403, path
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert state_of(contact).member_status == "subscribed"
    assert not webhook_entries().exists()


def test_only_get_head_and_post_are_allowed(client, configuration):
    path = webhook_path(configuration)
    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405
    assert client.patch(path).status_code == 405


@pytest.mark.parametrize("form", [
    {},
    {"type": "resubscribe", "data[email]": "a@fastmail.com"},
    {"type": "unsubscribe"},
    {"type": "cleaned", "data[email]": " "},
    {"type": "upemail", "data[old_email]": "a@fastmail.com"},
    {"type": "unsubscribe", "data[email]": "a\x00@fastmail.com"},
    {"type": "upemail", "data[old_email]": "a@fastmail.com", "data[new_email]": "b\x00@fastmail.com"},
])
def test_malformed_deliveries_are_rejected(client, configuration, form):
    form = dict(form, **{"data[list_id]": configuration.list_id})
    assert client.post(webhook_path(configuration), form).status_code == 400
    assert not webhook_entries().exists()


def test_a_json_body_is_not_a_mailchimp_delivery(client, configuration):
    response = client.post(webhook_path(configuration), '{"type": "unsubscribe"}', content_type="application/json")
    assert response.status_code == 400


def test_unknown_email_and_foreign_audience_answer_200_with_a_log_entry(client, configuration):
    contact = make_contact(permission=True)
    assert post_event(client, configuration, "unsubscribe", email="nobody@fastmail.com").status_code == 200
    entry = webhook_entries().get()
    assert entry.action == "webhook.unsubscribe" and entry.extra["matched"] == 0

    form = mailchimp_form("unsubscribe", "someotherlist", email=contact.email)
    assert client.post(webhook_path(configuration), form).status_code == 200
    assert webhook_entries().filter(action="webhook.ignored").count() == 1
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert state_of(contact).member_status == "subscribed"


def test_unsubscribe_withdraws_consent_without_sending_anything_and_twice_changes_once(
    client, configuration, mailchimp_account
):
    emulator, api_key, list_id = mailchimp_account
    contact = make_contact(permission=True)
    emulator.clear_requests()

    for _ in range(2):
        response = post_event(client, configuration, "unsubscribe", email=contact.email.upper(), reason="manual")
        assert response.status_code == 200

    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    state = state_of(contact)
    assert (state.opt_in, state.member_status) == (False, "unsubscribed")
    entries = list(webhook_entries().order_by("id"))
    assert [(e.action, e.contact_id, e.extra["changed"]) for e in entries] == [
        ("webhook.unsubscribe", contact.pk, 1), ("webhook.unsubscribe", contact.pk, 0)
    ]
    # Nothing echoed back to Mailchimp. (Shuup's front middleware may create its anonymous contact
    # group on a first request, and that group is synced as an interest: not a member change.)
    assert [r for r in emulator.requests if "/members" in r["path"] or "/customers" in r["path"]] == []


def test_an_unsubscribe_withdraws_every_spelling_of_the_address(client, configuration, mailchimp_account):
    """Two consenting contacts, vera@xn--bcher-kva.de and vera@bücher.de (one member in Mailchimp), both sent;
    Mailchimp's unsubscribe webhook for the punycode address withdraws both."""
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import make_all_due, new_person, row_of
    a = new_person(permission=True, email="vera@xn--bcher-kva.de")
    b = new_person(permission=True, email="vera@bücher.de")
    drain()
    make_all_due()
    drain()
    assert post_event(client, configuration, "unsubscribe", email="vera@xn--bcher-kva.de",
                      action="unsub", reason="manual").status_code == 200
    assert Contact.objects.get(pk=a.pk).marketing_permission is False
    assert Contact.objects.get(pk=b.pk).marketing_permission is False
    assert row_of(b).member_status == "unsubscribed"


def test_a_subscribe_made_in_mailchimp_is_recorded_but_gives_no_consent_in_the_shop(
    client, configuration, mailchimp_account
):
    """It may come from an admin of the audience: consent is given in the shop, never from outside."""
    emulator, api_key, list_id = mailchimp_account
    contact = make_contact(permission=False)
    assert state_of(contact).member_status == "transactional"

    assert post_event(client, configuration, "subscribe", email=contact.email,
                      merges={"FNAME": contact.first_name}).status_code == 200

    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    state = state_of(contact)
    assert (state.opt_in, state.member_status) == (False, "subscribed")
    entry = webhook_entries().get()
    assert entry.action == "webhook.subscribe" and "unchanged" in entry.message
    # A later edit in the shop neither unsubscribes the member nor claims the consent.
    contact.first_name = "Edited"
    contact.save()
    assert state_of(contact).status == "synced"
    assert emulator.get_member(api_key, list_id, contact.email)["merge_fields"]["FNAME"] == "Edited"


def test_subscribe_of_an_address_the_contact_no_longer_uses_gives_no_consent(client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = make_contact(permission=False)
    emulator.fire_event(api_key, list_id, "upemail", contact.email, new_email="moved@fastmail.com")
    post_event(client, configuration, "upemail", old_email=contact.email, new_email="moved@fastmail.com",
               new_id="abc")
    emulator.fire_event(api_key, list_id, "subscribe", "moved@fastmail.com")
    post_event(client, configuration, "subscribe", email="moved@fastmail.com")
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    state = state_of(contact)
    assert state.member_status == "subscribed"
    assert state.opt_in is False


def test_cleaned_marks_the_member_and_warns(client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = make_contact(permission=True)
    emulator.set_member_status(api_key, list_id, contact.email, "cleaned")

    assert post_event(client, configuration, "cleaned", email=contact.email, reason="hard",
                      campaign_id="c1").status_code == 200

    assert state_of(contact).member_status == "cleaned"
    entry = webhook_entries().get()
    assert (entry.action, entry.kind, entry.contact_id) == ("webhook.cleaned", LogKind.WARNING, contact.pk)
    contact.first_name = "Renamed"
    contact.save()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "cleaned"


def test_upemail_moves_the_sync_to_the_new_address_and_keeps_the_shop_email(
    client, configuration, mailchimp_account
):
    emulator, api_key, list_id = mailchimp_account
    contact = make_contact(permission=True)
    old_email = contact.email
    emulator.fire_event(api_key, list_id, "upemail", old_email, new_email="new@fastmail.com")
    assert post_event(client, configuration, "upemail", old_email=old_email.upper(), new_email="new@fastmail.com",
                      new_id="x1").status_code == 200
    assert state_of(contact).email == "new@fastmail.com"
    assert Contact.objects.get(pk=contact.pk).email == old_email
    entry = webhook_entries().get()
    assert entry.action == "webhook.upemail" and entry.contact_id == contact.pk
    assert "new@fastmail.com" in entry.message and old_email.upper() in entry.message


def test_an_upemail_to_an_address_longer_than_any_is_rejected_and_changes_nothing(client, configuration):
    """No address is longer than 254 characters: such a new address is a malformed delivery (on PostgreSQL it
    did not fit the sync state's column and the webhook failed with a server error)."""
    contact = make_contact(permission=True)
    before = state_of(contact).email
    too_long = "%s@%s.%s.%s.com" % ("l" * 64, "d" * 63, "e" * 63, "f" * 58)
    response = post_event(client, configuration, "upemail", old_email=contact.email, new_email=too_long)
    assert response.status_code == 400 and b"longer than an e-mail address can be" in response.content
    assert state_of(contact).email == before
    assert not webhook_entries().exists()


@pytest.mark.parametrize("event_type, data", [
    ("profile", {"merges": {"FNAME": "Changed"}}),
    ("campaign", {"id": "camp1", "subject": "Hello", "status": "sent"}),
])
def test_profile_and_campaign_are_logged_only(client, configuration, event_type, data):
    contact = make_contact(permission=True)
    if event_type == "profile":
        data = dict(data, email=contact.email)
    before = state_of(contact)
    assert post_event(client, configuration, event_type, **data).status_code == 200
    after = state_of(contact)
    assert (after.member_status, after.opt_in, after.email) == (before.member_status, before.opt_in, before.email)
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert webhook_entries().get().action == "webhook.%s" % event_type


def test_the_webhook_works_while_the_shop_is_in_maintenance_mode(client, configuration):
    contact = make_contact(permission=True)
    shop = configuration.shop
    shop.maintenance_mode = True
    shop.save()
    assert client.get("/").status_code == 503
    assert post_event(client, configuration, "unsubscribe", email=contact.email).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False


def test_a_late_unsubscribe_webhook_fired_before_a_consent_given_in_the_shop_does_not_withdraw_it(
        shop, configuration, mailchimp_account, client):
    """Vera subscribed on Mailchimp's own form (the shop never sent her). At 12:00 she unsubscribes in Mailchimp;
    the webhook delivery fails and Mailchimp retries it (for about 75 minutes). At 12:01 the shop records a consent
    for her (the admin creates her contact with consent; the worker has not sent it yet). At 12:02 the delayed
    delivery, fired at 12:00, arrives: it is older than the consent the shop decided at 12:01, so it does not
    withdraw it. Her row learns the member's status, and the consent is sent as a change: Mailchimp asks the
    unsubscribed address to confirm (review aud11)."""
    from datetime import timedelta

    from django.utils import timezone

    from shoop_mailchimp.sync import delivery
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person

    emulator, api_key, list_id = mailchimp_account
    email = "vera.late@fastmail.com"
    emulator.add_members(api_key, list_id, [email])
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")
    fired_at = (timezone.now() - timedelta(seconds=60)).strftime("%Y-%m-%d %H:%M:%S")
    original = delivery.background_drainer.wake
    delivery.background_drainer.wake = lambda: None  # the worker has not sent the new consent yet
    try:
        vera = new_person(permission=True, email=email)
        response = client.post(webhook_path(configuration), mailchimp_form(
            "unsubscribe", list_id, fired_at=fired_at, email=email, action="unsub", reason="manual"))
        assert response.status_code == 200
    finally:
        delivery.background_drainer.wake = original
    assert Contact.objects.get(pk=vera.pk).marketing_permission is True, (
        "a consent the shop recorded a minute after the unsubscribe fired was withdrawn by its late delivery")
    assert state_of(vera).member_status == "unsubscribed"
    entry = webhook_entries().get(action="webhook.unsubscribe")
    assert entry.extra["kept"] == [vera.pk] and entry.extra["changed"] == 0
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    assert [item["email_address"] for item in emulator.confirmations(api_key)] == [email]

    # A later unsubscribe (fired after the consent) withdraws it as any other.
    response = client.post(webhook_path(configuration), mailchimp_form(
        "unsubscribe", list_id, email=email, action="unsub", reason="manual"))
    assert response.status_code == 200
    assert Contact.objects.get(pk=vera.pk).marketing_permission is False


def test_a_webhook_fired_in_the_future_does_not_make_a_later_real_unsubscribe_stale(
        shop, configuration, mailchimp_account, client):
    """Mailchimp's clock runs ten minutes ahead of the shop's (or a delivery is replayed with a future ``fired_at``):
    a ``subscribe`` delivery stamped the row's fact time ten minutes in the future, and Vera's real unsubscribe,
    fired now by the shop's clock, was ignored as stale: she kept consenting (review aud12). A time later than now is
    taken as now."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.helpers import new_person, send_due

    emulator, api_key, list_id = mailchimp_account
    email = "vera.future@fastmail.com"
    vera = new_person(permission=True, email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    future = (timezone.now() + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    assert client.post(webhook_path(configuration), mailchimp_form(
        "subscribe", list_id, fired_at=future, email=email)).status_code == 200
    emulator.edit_member_by_hand(api_key, list_id, email, status="unsubscribed")
    assert client.post(webhook_path(configuration), mailchimp_form(
        "unsubscribe", list_id, email=email, action="unsub", reason="manual")).status_code == 200
    assert Contact.objects.get(pk=vera.pk).marketing_permission is False, (
        "an unsubscribe after a future-dated delivery was ignored as stale: the shop keeps the consent")
