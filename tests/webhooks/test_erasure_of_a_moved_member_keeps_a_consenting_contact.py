"""Found by independent review aud52 (issue 19) of 94d080a, F1 (fixed: the moved member is erased by the rules of the
contacts at its new address, ``ErasePlan._erase_shared_own_member``; consent): ``ErasePlan._keep_member`` follows a kept
member gone from the row's address (moved in Mailchimp, the upemail not delivered yet) to its new address by
``unique_email_id`` and applies there the ``withdraw`` decided for the OLD address's contacts (``consent_left_with``:
none of family@'s other contacts consents), without asking whether a contact of the shop with the NEW address consents
(``_delete_own_member``'s follow asks it: ``consenting_in_shop`` of the new address's contacts). The unsubscribe's
``AddressUnsubscribed`` then withdraws, in the shop, the marketing permission of that consenting contact."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("moved", [False, True], ids=["control-not-moved", "moved-to-a-consenting-contacts-address"])
def test_erasure_keeps_a_consenting_contact_at_the_address_its_kept_member_was_moved_to(
        configuration, mailchimp_account, settings, moved):
    """Harm (consent): Rosa consents in the shop and her address's member is subscribed; the erasure of another person
    (Paul) unsubscribes it and withdraws Rosa's marketing permission in the shop. Neither Rosa nor the shop asked it.

    Steps: Paul (consents) is sent: his member at family@, subscribed. Queenie (no consent) is added with family@
    (she shares it; her row takes the member for not hers). The member's owner changes its address in Mailchimp to
    home@ ("moved-..."; its upemail delivery has not reached the shop: Mailchimp retries it for over an hour). Rosa
    registers with home@ and consents; she is sent: the member at home@ is subscribed. Paul's account is deleted; the
    worker sends the erasure: family@ is shared with Queenie, nobody there consents (withdraw); the member is not at
    family@ (404); it is found by Paul's unique_email_id at home@ and unsubscribed there, and Rosa "learns" the
    unsubscribe (permission withdrawn).

    Control ("control-not-moved"): the same without the move: Rosa's home@ gets its own member, the erasure
    unsubscribes the member at family@ only. Expected in both: Rosa still consents in the shop, and the member of
    home@ is subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    tag = "%d.aud52f1@fastmail.com" % moved
    family, home = "family." + tag, "home." + tag
    paul = new_person(permission=True, email=family, first_name="Paul", last_name="Private")
    send_due(rounds=2)
    new_person(permission=False, email=family, first_name="Queenie", last_name="Real")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup"
    if moved:
        # The member's owner changes its address in Mailchimp; the upemail delivery has not reached the shop.
        emulator.fire_event(api_key, list_id, "upemail", family, new_email=home)
    rosa = new_person(permission=True, email=home, first_name="Rosa", last_name="Real")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, home)["status"] == "subscribed", "setup: Rosa consents"
    PersonContact.objects.get(pk=paul.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, home)
    permission = PersonContact.objects.get(pk=rosa.pk).marketing_permission
    assert (permission, member and member["status"]) == (True, "subscribed"), (
        "Rosa consented and nobody withdrew it; after Paul's erasure her permission is %s and the member of her "
        "address is %s (her row: %s, opt_in %s)" % (
            permission, member and member["status"], row_of(rosa).status, row_of(rosa).opt_in))
