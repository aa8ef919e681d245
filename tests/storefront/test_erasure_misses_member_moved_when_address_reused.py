"""Found by independent review aud36 (issue 19) (data, GDPR; open: a strict expected failure): an erasure whose
row's address holds a new member (someone's form signup) while the contact's own moved elsewhere in Mailchimp (its
upemail late) does not look for its own: the id lookup runs only where nothing is at the row's address, and a row
marked ``foreign_member`` takes the kept branch."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("upemail_late", [False, pytest.param(True, marks=pytest.mark.xfail(strict=True, reason=(
    "open (aud36): an erasure whose row's address was reused")))],
    ids=["control-upemail-delivered", "upemail-late"])
def test_erasure_reaches_her_moved_member_when_her_old_address_has_a_new_subscriber(
        shop, configuration, mailchimp_account, client, settings, upemail_late):
    """Harm (GDPR data loss): Vera is erased in the shop, and her member in Mailchimp (her names, subscribed by her
    consent) stays for good at vera@home.

    Steps: Vera consents; her member is subscribed at vera@ with her names. In Mailchimp's profile page she changes
    her address to vera@home (the upemail delivery fails; Mailchimp retries it later). Someone else then subscribes
    vera@ on Mailchimp's own form (a new member; its ``subscribe`` webhook reaches the shop, and Vera's row, still
    at vera@, learns the member there is not hers: ``foreign_member``). Vera's account is deleted. ``ErasePlan.run``
    takes the ``foreign_member`` branch ("member.kept") and ``_delete_own_member``'s lookup by ``unique_email_id``
    never runs (it would also be skipped without the webhook: a member *is* at vera@, ``created_again``): her own
    member at vera@home is neither deleted nor cleared, and the late upemail then matches no row. Control: the
    upemail arrives in time (her row addresses vera@home): the erasure deletes that member."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "late" if upemail_late else "ontime"
    email, home = "vera.ru36.%s@fastmail.com" % tag, "vera.ru36.%s@home.example.com" % tag
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed", "setup"
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=home)
    if not upemail_late:
        assert client.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(timezone.now() - timedelta(seconds=2)), old_email=email,
            new_email=home, new_id=member["unique_email_id"])).status_code == 200
        send_due(rounds=2)
        assert row_of(vera).email == home, "setup"
    form_member, _ = emulator.fire_event(api_key, list_id, "subscribe", email)
    assert client.post(webhook_path(configuration), mailchimp_form(
        "subscribe", list_id, fired_at=fired(timezone.now()), email=email,
        id=form_member["unique_email_id"])).status_code == 200
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, home)["merge_fields"].get("LNAME") == "Secretname", "setup"
    row_email, foreign = row_of(vera).email, row_of(vera).foreign_member
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, home)
    assert left is None or left["merge_fields"].get("LNAME") != "Secretname", (
        "Vera was erased (her row addressed %s, foreign_member %r); her own member at %s keeps her data: %r" % (
            row_email, foreign, home, {key: left.get(key) for key in ("status", "merge_fields")}))
