"""Found by independent review aud19 (issue 19): a contact moving onto an address another contact proved theirs
(ProvenAddress) goes through ``ContactPlan._new_address_apart`` (contact.py, ``elif self.previous_shared or
self.proven_by_another and self.previous_email``), which leaves the contact's OWN member (its names, the
subscription its own consent made) under the old address -- but never records it (``_left_behind`` is called on the
archive and ``_arrived_at_shared`` paths, not here), nor sends the consent that goes with the contact: the row now
tracks the proven address only, so the contact's later Unsubscribe and its erasure never reach its own member."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, logged_in_account, presses_on_account_page, registered_account

pytestmark = pytest.mark.django_db


def _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model, case, proven):
    configuration.send_unconsented = False  # Ann has no member yet: the shop sends only people who consented
    configuration.save()
    ann_email = "ann.%s.%d.aud19@fastmail.com" % (case, proven)
    logged_in_account(shop, django_user_model, "ann19%s%d" % (case[:4], proven), ann_email, proven=proven)
    send_due(rounds=3)
    own = "sam.%s.%d.aud19@fastmail.com" % (case, proven)
    user, sam = registered_account(shop, django_user_model, "sam19%s%d" % (case[:4], proven), own,
                                   first_name="Sam", last_name="Private")
    browser = presses_on_account_page(user, subscribe=True)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, own)["merge_fields"]["FNAME"] == "Sam"
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_email
    sam.save()
    send_due(rounds=3)
    return user, browser, own, ann_email


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("proven", [False, True], ids=["control-unproven", "ann-proved-it"])
def test_a_contacts_own_unsubscribe_reaches_the_member_its_move_onto_a_proven_address_left(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, proven):
    """Sam registers and subscribes on his account page: his own member, subscribed by his consent. Ann registered
    and proved her address (she has no member: the shop sends only consenting people). Sam types Ann's address into
    his account (consent still ticked): his own member stays under his old address, subscribed. Sam then presses
    Unsubscribe on his account page: the send goes to Ann's address only; his old member stays subscribed and he
    keeps getting the newsletter he unsubscribed from. Control (Ann never proved it): his member moves along and
    his Unsubscribe ends it."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "unsub", proven)
    choose(browser, subscribe=False)
    send_due(rounds=3)
    subscribed = [member["email_address"] for member in (emulator.get_member(api_key, list_id, own),)
                  if member is not None and member["status"] in ("subscribed", "pending")]
    assert not subscribed, ("Sam unsubscribed on his account page and the member his own consent subscribed stays "
                            "subscribed: %r (row: email %r, members_left %r)" % (
                                subscribed, row_of(get_person_contact(user)).email,
                                getattr(row_of(get_person_contact(user)), "members_left", None)))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("proven", [False, True], ids=["control-unproven", "ann-proved-it"])
def test_an_erased_contacts_member_left_by_a_move_onto_a_proven_address_is_deleted(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, proven):
    """As above, then Sam has his account deleted (GDPR erasure): the erasure reaches only Ann's address; Sam's own
    member, with his names, stays in the audience (subscribed) for good. Control: his member moved along and is
    deleted."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "erase", proven)
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, own)
    assert left is None, "Sam was erased, and his own member (his names) stays in the audience: %r" % (
        left and (left["status"], left["merge_fields"].get("FNAME"), left["merge_fields"].get("LNAME")),)
