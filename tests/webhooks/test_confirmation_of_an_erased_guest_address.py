"""Found by independent review aud51 (issue 19) of f3e1d45, F1 (fixed: the erasures of the address learn the subscribe
before the live rows are looked at, ``member_events._erasures_learn``; consent):
``member_events.handle_subscribe`` reaches an erasure row of the address (``erase=True``, not yet ERASED) only AFTER
``_applicable`` accepted the event for the live rows; when no live contact of the shop has the address (the member was a
guest's / a Mailchimp-form member the shop never had as a contact, and the only row naming it is the erasure's),
``_applicable`` returns ``_no_contact`` first and the erasure row keeps ``consent_made=True, opt_in=True``. The erasure
(``plan``: ``withdraw = subscribed_by_its_consent(row) and consent_left_with(...)``;
``ErasePlan._erase_member_at_address`` -> ``unsubscribe_kept_member``) then unsubscribes the subscription the address's
owner confirmed themselves."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import anns_consent_asks_bobs_member_to_confirm, owner_confirms

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("bob", [True, False], ids=["control-bob-a-contact-of-the-address", "no-other-contact"])
def test_an_owners_confirmation_is_ended_by_an_erasure_when_no_live_contact_has_the_address(
        configuration, mailchimp_account, settings, bob):
    """Harm (consent): the owner of the family mailbox confirmed the subscription (the link Mailchimp mailed); the
    shop unsubscribes it when it sends Ann's erasure. The owner never unsubscribed.

    Steps: Mailchimp already holds a member of family@ (unsubscribed: a former subscriber, not a contact of the
    shop); ("control") Bob, a contact without consent, also has family@ and is sent. Ann (consenting) is added with
    family@: her send asks the address to confirm (the member pending; Ann's row foreign_member, consent_made). Ann's
    account is deleted (erasure recorded, not sent yet); the owner clicks the confirmation link: the member is
    subscribed, the subscribe webhook reaches the shop (200). The worker sends the erasure.

    Control ("control-bob-a-contact-of-the-address"): the same with Bob at the address: the webhook reaches Ann's
    erasure row (f3e1d45) and the owner's subscription stays. Expected in both: it stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud51f1@fastmail.com" % bob
    emulator.fire_event(api_key, list_id, "subscribe", family)  # a former subscriber on Mailchimp's form
    emulator.fire_event(api_key, list_id, "unsubscribe", family)
    if bob:
        new_person(permission=False, email=family, first_name="Bob", last_name="Hidden")
        send_due(rounds=2)
    ann = new_person(permission=True, email=family, first_name="Ann", last_name="")
    send_due(rounds=2)
    row = row_of(ann)
    assert row.foreign_member and row.consent_made and row.opt_in, "setup: %r" % (
        (row.foreign_member, row.consent_made, row.opt_in, row.member_status),)
    assert emulator.get_member(api_key, list_id, family)["status"] == "pending", "setup: confirmation asked"
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure recorded
    owner_confirms(configuration, mailchimp_account, family)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s confirmed the subscription; Ann's erasure ended it: %r (Ann's row: consent_made=%r)" % (
            family, member and member["status"], row_of(ann).consent_made))


@pytest.mark.parametrize("confirmed_after_the_erasures", [False, True],
                         ids=["control-confirmed-before-the-erasures", "confirmed-while-both-erasures-wait"])
def test_an_owners_confirmation_is_deleted_for_good_when_both_contacts_of_the_address_are_erased(
        configuration, mailchimp_account, settings, confirmed_after_the_erasures):
    """Harm (consent): the owner of the family mailbox confirmed the subscription; the shop deletes the member for good
    (Mailchimp then bars the address from the API; the owner's signup is gone).

    Steps: Bob (no consent) is sent: his own transactional member at family@. Ann (consenting) is added with family@:
    her send asks the address to confirm (pending; Ann's row foreign_member, consent_made). Bob's and Ann's accounts
    are deleted (two erasures recorded, not sent yet). The owner clicks the confirmation link: subscribed, the
    subscribe webhook reaches the shop (200) -- but no live contact has the address, so ``handle_subscribe`` stops at
    ``_no_contact`` and neither erasure row learns it. The worker sends: Bob's erasure
    (``ErasePlan._delete_own_member``) takes the subscription for Ann's consent's (``made_by_a_consent_gone``: Ann's
    stale row) and deletes the member.

    Control ("control-confirmed-before-the-erasures"): the owner confirms before the accounts are deleted: the member
    stays subscribed. Expected in both: it stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud51f1b@fastmail.com" % confirmed_after_the_erasures
    bob, ann = anns_consent_asks_bobs_member_to_confirm(mailchimp_account, family)
    if not confirmed_after_the_erasures:
        owner_confirms(configuration, mailchimp_account, family)
    PersonContact.objects.get(pk=bob.pk).delete()
    PersonContact.objects.get(pk=ann.pk).delete()
    if confirmed_after_the_erasures:
        owner_confirms(configuration, mailchimp_account, family)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s confirmed the subscription; the shop's erasures ended it: %r" % (
            family, member and member["status"]))
