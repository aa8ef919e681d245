"""Found by independent review aud37 (issue 19), F3 (data, GDPR, consent; fixed): an erasure
whose row's address another contact has keeps the member there, but the contact's own member had moved elsewhere in
Mailchimp (its upemail late): the id lookup runs only on the unshared path, so the moved member keeps the erased
person's data and subscription. Fixed: a shared address's erasure first checks that the member there is the contact's
own (``ErasePlan._erase_shared_own_member``), and erases the contact's own where it moved."""
import pytest
from django.utils import timezone

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("carl", [False, True], ids=["control-address-not-shared", "carl-has-her-old-address"])
def test_erasure_reaches_her_moved_member_when_another_contact_has_her_old_address(
        shop, configuration, mailchimp_account, client, settings, carl):
    """Harm (GDPR data loss + consent): Vera is erased in the shop, yet her own member in Mailchimp keeps her names
    and stays subscribed by her (erased) consent, for good.

    Steps: Vera consents; her member is subscribed at vera@ with her names. In Mailchimp's profile page she changes
    its address to vera@new (the upemail delivery fails; Mailchimp retries it later). Carl, another contact of the
    shop without consent (a duplicate the staff added), has vera@. Vera's account is deleted. The erasure is
    ``shared`` (Carl has the row's address): ``ErasePlan.run`` takes ``_keep_member`` for vera@ (nothing there: the
    unsubscribe / clearing meets no member) and never looks her member up by its ``unique_email_id`` as
    ``_delete_own_member`` now does. Right after the erasure her member at vera@new keeps her names and her
    subscription; the late upemail, delivered at last, then takes Carl's row onto it (Carl's names written over hers,
    into Vera's mailbox's member), and it stays subscribed by Vera's erased consent though nobody in the shop
    consents. Control: no Carl: ``_delete_own_member`` finds it by its id and deletes it."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email, new = "vera.sh37.%d@fastmail.com" % carl, "vera.sh37.%d@new.example.com" % carl
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed" and member["merge_fields"].get("LNAME") == "Secretname", "setup"
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=new)  # its delivery fails
    if carl:
        new_person(permission=False, email=email, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    assert row_of(vera).email == email and row_of(vera).unique_email_id == member["unique_email_id"], "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    right_after = emulator.get_member(api_key, list_id, new)
    # Mailchimp's retry of the upemail delivery arrives at last.
    assert client.post(webhook_path(configuration), mailchimp_form(
        "upemail", list_id, fired_at=fired(timezone.now()), old_email=email, new_email=new,
        new_id=member["unique_email_id"])).status_code == 200
    send_due(rounds=3)
    kept = emulator.get_member(api_key, list_id, new)
    assert kept is None or (kept["merge_fields"].get("LNAME") != "Secretname" and kept["status"] != "subscribed"), (
        "Vera was erased; her own member at %s keeps her subscription (and, right after the erasure, her data): now "
        "%r; right after the erasure %r" % (new, {key: kept.get(key) for key in ("status", "merge_fields")},
                                            {key: right_after.get(key) for key in ("status", "merge_fields")}
                                            if right_after else None))
