"""Found by independent review aud36 (issue 19), F1 (data, GDPR; consent): an erasure whose member, moved in
Mailchimp (its upemail late), was found by its ``unique_email_id`` at another contact's address only logged it kept:
the erased person's data and subscription stayed. It goes the shared member's way now (data cleared, unsubscribed
when none of the others consents, the others sent again)."""
import pytest
from django.utils import timezone

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("upemail_late", [False, True], ids=["control-upemail-delivered", "upemail-late"])
def test_erased_contacts_data_and_subscription_leave_the_member_found_by_its_id_at_anothers_address(
        shop, configuration, mailchimp_account, client, settings, upemail_late):
    """Harm (GDPR data loss + consent): Vera is erased in the shop, yet her member in Mailchimp keeps her names and
    stays subscribed by her (erased) consent, though no contact of the shop consents to that address.

    Steps: Vera consents; her member is subscribed at vera@ with her names. In Mailchimp's profile page she changes
    her address to shared@ (the upemail delivery fails; Mailchimp retries it later). Bob, another contact of the shop
    without consent, has shared@ as his address. Vera's account is deleted (erasure). ``_delete_own_member`` finds
    nothing at vera@, looks her member up by its ``unique_email_id`` (shared@), sees Bob has that address and
    returns at once ("member.kept"): it neither clears her data (the mapped merge fields) nor unsubscribes the
    member her consent subscribed, nor has Bob's row write his data again (``MemberDataErased``). The late upemail
    then matches no row (hers is erased). Control: the upemail reaches the shop in time (her row addresses
    shared@): the erasure takes ``_keep_member`` (shared): FNAME/LNAME are cleared and, Bob not consenting, the
    member is unsubscribed."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "late" if upemail_late else "ontime"
    email, shared = "vera.er36.%s@fastmail.com" % tag, "shared.er36.%s@fastmail.com" % tag
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed" and member["merge_fields"].get("LNAME") == "Secretname", "setup"
    emulator.fire_event(api_key, list_id, "upemail", email, new_email=shared)
    if not upemail_late:
        assert client.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(timezone.now()), old_email=email, new_email=shared,
            new_id=member["unique_email_id"])).status_code == 200
        send_due(rounds=2)
        assert row_of(vera).email == shared, "setup"
    new_person(permission=False, email=shared, first_name="Bob", last_name="Other")
    send_due(rounds=2)
    assert row_of(vera).unique_email_id == member["unique_email_id"], "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    kept = emulator.get_member(api_key, list_id, shared)
    assert kept is not None, "setup: Bob has the address: the member is kept (never deleted)"
    assert kept["merge_fields"].get("LNAME") != "Secretname" and kept["status"] != "subscribed", (
        "Vera was erased; the member at %s (Bob's address, Bob does not consent) keeps her data and her "
        "subscription: %r" % (shared, {key: kept.get(key) for key in ("status", "merge_fields")}))
