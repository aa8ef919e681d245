"""Found by independent review aud48 (issue 19) of 3a589c5, F4 (GDPR; fixed: a subscription another erased contact's
consent made is not its owner's, ``contact.made_by_a_consent_gone``): two contacts of the shop share one member (Bob's:
his send created it, his names on it; Ann's consent subscribed it, her row ``foreign_member`` with ``consent_made``),
and both are erased. Bob's erasure (``ErasePlan._delete_own_member``) reads the member PENDING (or subscribed) while
Bob's row never consented (``subscribed_by_others``) and keeps it, as if its owner had subscribed it on Mailchimp's own
form; Ann's erasure (the member not hers) only unsubscribes it. Nobody in the shop has the address any more, yet the
member stays in Mailchimp with Bob's names for good. In the Initialize that moves a disconnected shop to another
audience this is a regression of 8312248: ``_erase_in_old_audience`` used to delete the member (nobody else held the
address), and now runs the erasure's own steps (``contact.erase_members_in``)."""
import pytest
from shuup.core.models import PersonContact

from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("moved", [True, False], ids=["across-an-audience-move", "worker"])
@pytest.mark.parametrize("ann_consents", [False, True], ids=["control-ann-no-consent", "ann-consented"])
def test_erasing_both_contacts_of_a_member_deletes_it(admin_client, connected, mailchimp_account, settings,
                                                     ann_consents, moved):
    """Harm (GDPR): Bob's account is deleted; the member with his names ("Bob Hidden") stays in the audience for good,
    though no contact of the shop has the address any more.

    Steps: Bob (no consent, "Bob Hidden") is sent: his own transactional member at the family address. Ann (the
    same address) is added: consenting ("ann-consented"), her send asks the address to confirm (the member
    pending). (Across an audience move: the shop is disconnected, the store deleted.) Bob's and Ann's accounts are
    deleted (erasures). The owner moves the shop to a new audience (Initialize), or the worker sends the erasures
    ("worker").

    Control ("control-ann-no-consent"): the same with Ann not consenting: the member stays transactional, and Bob's
    erasure deletes it permanently."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "family.aud48f4.%d%d@fastmail.com" % (ann_consents, moved)
    bob = new_person(permission=False, email=email, first_name="Bob", last_name="Hidden")
    send_due(rounds=2)
    ann = new_person(permission=ann_consents, email=email, first_name="Ann", last_name="")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["merge_fields"]["LNAME"] == "Hidden" and row_of(ann).foreign_member, "setup: Bob's member"
    assert (member["status"] in ("subscribed", "pending")) == ann_consents, "setup: %s" % member["status"]
    if moved:
        disconnect_and_delete_the_store(admin_client, connected, emulator)
    PersonContact.objects.get(pk=bob.pk).delete()  # erasures
    PersonContact.objects.get(pk=ann.pk).delete()
    if moved:
        initialize_with(admin_client, connected, emulator.add_list(api_key, name="New audience"))
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is None, (
        "Bob and Ann were erased, no contact of the shop has %s; its member keeps Bob's data: %r"
        % (email, (member["status"], member["merge_fields"])))
