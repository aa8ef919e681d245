"""Found by independent review aud18 (issue 19):
a recovered send re-sends the withdrawal "a lost attempt may have carried" only where
``subscription_of_others`` is false (contact.py, ContactPlan.__init__, the ``self.recovered`` branch). But the lost
attempt is exactly the one that would have recorded ``consent_made``: a consent given for a member not the
contact's (a guest buyer's, transactional), whose send subscribed it and then lost its worker, leaves the row
foreign_member True, consent_made False, opt_in never sent. The withdrawal then sends nothing, and the guest buyer
stays subscribed though nobody consents."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import claimed_by_a_dying_worker, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("worker_dies", [False, True], ids=["control", "worker-died"])
def test_a_consent_lost_with_the_worker_then_withdrawn_unsubscribes_the_guest_buyers_member(
        shop, configuration, mailchimp_account, settings, worker_dies):
    """Gus bought as a guest: Mailchimp holds his member, transactional (he never ticked a marketing box). The staff
    create a contact with his address, no consent: its first send finds Gus's member and leaves it alone
    (foreign_member True). The staff tick the contact's marketing box (a consent, the shop owner's): its send
    subscribes Gus's member (a change of a transactional member). The worker dies right after that write reached
    Mailchimp (a deploy, an OOM kill): the row never learns opt_in, member_status or consent_made. The staff untick
    the box before the next claim. The recovered send must still unsubscribe the member (the consent that
    subscribed it is withdrawn, and Gus never consented); it sends nothing, because the row's member is "someone
    else's without consent_made" -- the very fact the lost attempt would have recorded. Gus keeps getting the
    newsletter nobody consented to."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "gus.guest.%d.aud18@fastmail.com" % worker_dies
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Gus"})
    contact = PersonContact.objects.create(email=email, first_name="Gus", last_name="Contact")
    contact.add_to_shop(shop)
    send_due(rounds=3)
    assert row_of(contact).foreign_member is True
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    contact = PersonContact.objects.get(pk=contact.pk)
    contact.marketing_permission = True
    contact.save()
    if worker_dies:
        claimed_by_a_dying_worker(contact)
        # What the claimed attempt's member write did before its worker died: Gus's member subscribed.
        emulator.set_member_status(api_key, list_id, email, "subscribed")
    else:
        send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    contact = PersonContact.objects.get(pk=contact.pk)
    contact.marketing_permission = False
    contact.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "the consent that subscribed Gus's member was withdrawn and its member stays subscribed (row: foreign_member "
        "%r, consent_made %r, opt_in %r)" % (
            row_of(contact).foreign_member, row_of(contact).consent_made, row_of(contact).opt_in))
