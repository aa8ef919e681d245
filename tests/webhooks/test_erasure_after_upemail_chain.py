"""Found by independent review aud35 (issue 19), F1 (data, GDPR): an erasure read only the address the row last
knew; after two upemails, the second delivered late, it found nothing there and left the member (moved on) with the
erased person's data. It looks the member up by its ``unique_email_id`` now."""
import pytest

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import moved_twice_in_mailchimp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("second_delivery_late", [False, True], ids=["control-in-time", "second-delivery-late"])
def test_erasure_reaches_her_member_moved_on_by_a_late_upemail(
        shop, configuration, mailchimp_account, client, settings, second_delivery_late):
    """Harm (GDPR data loss): Wendy is erased in the shop, and her member in Mailchimp (her names, subscribed) stays
    for good at wendy@home.

    Steps: Wendy consents; her member is subscribed at wendy@ with her names. In Mailchimp's profile page she changes
    her address to wendy@work (T0), then to wendy@home (T1). The T0 delivery reaches the shop (the row addresses
    wendy@work); the T1 one fails and Mailchimp retries it later. Before the retry, Wendy's account is deleted in
    the shop. ``ErasePlan._delete_own_member`` reads wendy@work, finds no member ("nothing to delete") and closes
    the row ERASED (email ""), without the ``unique_email_id`` lookup 3172c73 gave ``ContactPlan`` for this very
    state (``_member_moved_on``). The T1 retry then matches no row. Her member at wendy@home keeps her data.
    Control: the T1 delivery arrives in time; the erasure deletes it."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "late" if second_delivery_late else "ontime"
    email = "wendy.erase.%s@fastmail.com" % tag
    work, home = "wendy.erase.%s@work.example.com" % tag, "wendy.erase.%s@home.example.com" % tag
    wendy = new_person(permission=True, email=email, first_name="Wendy")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    deliver_t1 = moved_twice_in_mailchimp(client, configuration, mailchimp_account, email, work, home,
                                          second_delivery_late)
    assert emulator.get_member(api_key, list_id, home)["merge_fields"].get("FNAME") == "Wendy", "setup"
    row_email = row_of(wendy).email
    PersonContact.objects.get(pk=wendy.pk).delete()  # erasure
    send_due(rounds=3)
    if second_delivery_late:
        deliver_t1()
        send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, home)
    assert member is None, (
        "Wendy was erased (her row addressed %s); her member at %s stays: %r" % (
            row_email, home, {key: member.get(key) for key in ("status", "merge_fields")}))
