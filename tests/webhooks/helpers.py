"""Deliveries shaped exactly like Mailchimp's: form-encoded, flattened ``data[...]`` keys."""
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from shoop_mailchimp.webhook_registration import VIEW_NAME


def webhook_path(configuration, secret=None):
    return reverse(VIEW_NAME, kwargs={
        "shop_id": configuration.shop_id,
        "secret": configuration.webhook_secret if secret is None else secret,
    })


def fired(moment):
    """Mailchimp's ``fired_at`` for an event at ``moment`` (UTC, whole seconds)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def fired_now():
    """Mailchimp's ``fired_at`` for an event happening now."""
    return fired(timezone.now())


def mailchimp_form(event_type, list_id, fired_at=None, **data):
    form = {"type": event_type, "fired_at": fired_at or fired_now(), "data[list_id]": list_id}
    for key, value in data.items():
        if isinstance(value, dict):
            form.update({"data[%s][%s]" % (key, inner): inner_value for inner, inner_value in value.items()})
        else:
            form["data[%s]" % key] = value
    return form


def post_event(client, configuration, event_type, secret=None, **data):
    return client.post(webhook_path(configuration, secret), mailchimp_form(event_type, configuration.list_id, **data))


def moved_twice_in_mailchimp(client, configuration, mailchimp_account, email, work, home, second_late):
    """In Mailchimp (the member's profile page) ``email`` becomes ``work`` (T0), then ``home`` (T1): two upemails. The
    T0 delivery reaches the shop at once, the T1 one too unless ``second_late`` (Mailchimp retries a failed delivery
    for over an hour). Returns the T1 delivery, to post later."""
    emulator, api_key, list_id = mailchimp_account
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=work)
    emulator.fire_event(api_key, list_id, "upemail", work, new_email=home)
    t0 = timezone.now()  # after the member's first send (an older fact would be stale)
    t1 = t0 + timedelta(seconds=1)  # a future time is taken as the delivery's moment (parse_fired_at)

    def deliver_t1():
        assert client.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(t1), old_email=work, new_email=home, new_id="x2")).status_code == 200

    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(t0), old_email=email, new_email=work, new_id="x1")).status_code == 200
    if not second_late:
        deliver_t1()
    return deliver_t1


def corrected_in_mailchimp(configuration, mailchimp_account, old_email, new_email):
    """A marketer corrects the member's address in Mailchimp (``old_email`` → ``new_email``, keeping its data); the
    ``upemail`` webhook reaches the shop."""
    from django.test import Client

    from shoop_mailchimp.mailchimp.members import subscriber_hash
    emulator, api_key, list_id = mailchimp_account
    emulator.fire_event(api_key, list_id, "upemail", old_email, source="admin", new_email=new_email)
    assert emulator.get_member(api_key, list_id, new_email), "setup: Mailchimp moved the member"
    assert post_event(Client(), configuration, "upemail", old_email=old_email, new_email=new_email,
                      new_id=subscriber_hash(new_email)).status_code == 200


def configure_with_live_webhook(settings, live_server, shop, mailchimp_account, **options):
    """An initialized configuration whose webhook Mailchimp (the emulator) calls on the live server.

    Shuup's front middleware creates the anonymous contacts' group on its first request, and the
    sync sends that new group to Mailchimp. Created here first, so that the live server's first
    request (Mailchimp's verification GET, answered while the emulator holds its lock) sends nothing.
    """
    from shuup.core.models import AnonymousContact

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import MailchimpConfiguration

    AnonymousContact.get_default_group()
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL=live_server.url)
    configuration = MailchimpConfiguration.objects.create(
        shop=shop, api_key=api_key, list_id=list_id, enabled=True, **options
    )
    initialize(configuration)
    configuration.refresh_from_db()
    return configuration


def sharing_a_form_subscription(configuration, mailchimp_account, email):
    """Paul and Queenie (a family address ``email``, neither consents in the shop) share one member, which Paul's send
    created; Queenie subscribes on Mailchimp's own form (the shop hears the webhook). Returns (Paul, Queenie) as
    saved."""
    from django.test import Client
    from shuup.core.models import PersonContact

    from tests.helpers import new_person, row_of, send_due

    emulator, api_key, list_id = mailchimp_account
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    queenie = new_person(permission=False, first_name="Queenie", email=email)
    send_due(rounds=2)
    assert row_of(paul).foreign_member is False, "setup: Paul's row created the member"
    emulator.fire_event(api_key, list_id, "subscribe", email)
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    assert row_of(queenie).member_status == "subscribed" and not row_of(paul).opt_in
    return PersonContact.objects.get(pk=paul.pk), PersonContact.objects.get(pk=queenie.pk)


def renamed_beside_a_form_subscription(configuration, mailchimp_account, email, lost):
    """Paul and Queenie share a member and Queenie's form subscription (:func:`sharing_a_form_subscription`). Paul's
    name is corrected: with ``lost``, that send's member PUT (no consent in it) lands and its answer is lost (the test
    sets a short ``TIMEOUT``), so Paul's row is a lost attempt's. Returns (Paul, Queenie) as saved."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import make_all_due, send_due, wait_for

    emulator, api_key, list_id = mailchimp_account
    paul, queenie = sharing_a_form_subscription(configuration, mailchimp_account, email)
    paul.first_name = "Paulus"
    paul.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email)["merge_fields"].get("FNAME")
                 == "Paulus", "the rename reaching Mailchimp")
        emulator.faults.clear()
    else:
        send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    return PersonContact.objects.get(pk=paul.pk), queenie


def anns_consent_asks_bobs_member_to_confirm(mailchimp_account, email):
    """Bob (no consent, "Bob Hidden") is sent: his own transactional member at ``email``. Ann (consenting) is added
    with the same address: her consent asks it to confirm (the member pending; her row ``foreign_member``,
    ``consent_made``). Returns (Bob, Ann)."""
    from tests.helpers import new_person, row_of, send_due

    emulator, api_key, list_id = mailchimp_account
    bob = new_person(permission=False, email=email, first_name="Bob", last_name="Hidden")
    send_due(rounds=2)
    ann = new_person(permission=True, email=email, first_name="Ann", last_name="")
    send_due(rounds=2)
    row = row_of(ann)
    assert row.foreign_member and row.consent_made and row.opt_in, "setup"
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending", "setup: confirmation asked"
    return bob, ann


def owner_confirms(configuration, mailchimp_account, email):
    """The address's owner confirms the subscription (the link Mailchimp mailed); the subscribe webhook reaches the
    shop."""
    from django.test import Client

    emulator, api_key, list_id = mailchimp_account
    emulator.fire_event(api_key, list_id, "subscribe", email)
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"


def owner_signs_up_again_after_a_delete(mailchimp_account, family, carl):
    """Vera (consenting, "Vera Secretname") is sent at ``family`` (with ``carl``, Carl, no consent, has it too). A
    marketer deletes the member for good; its owner signs up again on Mailchimp's form as "Fam Owner" (a new member,
    another ``unique_email_id``). Returns (Vera, the new member)."""
    from tests.helpers import new_person, row_of, send_due

    emulator, api_key, list_id = mailchimp_account
    vera = new_person(permission=True, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    if carl:
        new_person(permission=False, email=family, first_name="Carl", last_name="Other")
        send_due(rounds=2)
    old = emulator.get_member(api_key, list_id, family)
    assert old["status"] == "subscribed" and row_of(vera).unique_email_id == old["unique_email_id"], "setup"
    emulator.edit_member_by_hand(api_key, list_id, family, delete=True)
    new, _ = emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Fam", "LNAME": "Owner"})
    assert new["unique_email_id"] != old["unique_email_id"], "setup: a new member"
    return vera, new


def owner_resubscribes_on_the_form(configuration, mailchimp_account, email):
    """The address's owner unsubscribes in Mailchimp, then signs up again on Mailchimp's own form as "Fam Owner"; both
    webhooks reach the shop, each fired a second after what came before (Mailchimp's ``fired_at`` has whole
    seconds) and naming the member (``data[id]``), as Mailchimp's do."""
    import time

    from django.test import Client

    emulator, api_key, list_id = mailchimp_account
    time.sleep(1.1)
    member, _ = emulator.fire_event(api_key, list_id, "unsubscribe", email)
    assert member["status"] == "unsubscribed"
    assert post_event(Client(), configuration, "unsubscribe", email=email, id=member["unique_email_id"]).status_code \
        == 200
    time.sleep(1.1)
    member, _ = emulator.fire_event(api_key, list_id, "subscribe", email, merges={"FNAME": "Fam", "LNAME": "Owner"})
    assert member["status"] == "subscribed"
    assert post_event(Client(), configuration, "subscribe", email=email, id=member["unique_email_id"]).status_code \
        == 200


def vera_shares_her_member_with_carl(mailchimp_account, family):
    """Vera (consenting, "Vera Secretname") is sent: her own member at ``family``, subscribed. Carl (no consent,
    "Carl Other") is added with ``family`` and sent: the member is his too. Returns (Vera, Carl)."""
    from tests.helpers import new_person, row_of, send_due

    emulator, api_key, list_id = mailchimp_account
    vera = new_person(permission=True, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    carl = new_person(permission=False, email=family, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    row = row_of(vera)
    assert not row.foreign_member and row.opt_in and row.unique_email_id, "setup: Vera's own member"
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup"
    return vera, carl
