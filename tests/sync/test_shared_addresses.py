"""Two contacts of one shop with one address (a newsletter block's contact and the account registered later, a
guest checkout's contact): Mailchimp has one member of it. One contact leaving the address, deleted or anonymized
never takes the other's member with it; one contact's withdrawal voids a stranger's confirmation asked for the other
(fourth review of issue 19, aud6). A contact moving to an address another contact has, without consent of its own,
never changes that member's status: a withdrawal saved with the move reaches the member of the old address (fifth
review, aud8)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import ConsentRequest, SyncKind, SyncState
from shoop_mailchimp.storefront.subscriptions import subscribe_address
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, row_of
from tests.storefront.conftest import newsletter_block  # noqa: F401 (a fixture of shopper_client)
from tests.storefront.test_account_page import customer_information_post, shopper_client, shopper_user  # noqa: F401

pytestmark = pytest.mark.django_db


def two_contacts_one_member(emulator, api_key, list_id, email, p_spelling=None):
    """P, who consents, and Q, who does not, both of ``email`` (P stored as ``p_spelling`` of it, when given), sent:
    one member, subscribed. Returns (P, Q)."""
    p = new_person(permission=True, email=p_spelling or email)
    q = new_person(permission=False, email=email)
    drain()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    return p, q


def edit_and_send(contact, **fields):
    """The contact, loaded afresh, saved with ``fields`` (as the admin's form saves it), and what is due sent."""
    contact = PersonContact.objects.get(pk=contact.pk)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save()
    make_all_due()
    drain()


@pytest.mark.usefixtures("commits")
def test_a_contact_leaving_a_shared_address_does_not_take_the_other_contacts_member_with_it(
        shop, configuration, mailchimp_account):
    """Two contacts of one address (one member; e.g. a block subscriber and an account later registered with the
    address): P consents (subscribed), Q does not. Q's address is changed to a new one: the shop PATCHes the
    shared member's email_address to Q's new address. P's subscription vanishes from the shared address, and Q's
    new address is subscribed without Q's consent (contact.py ContactPlan.run, the previous_email PATCH)."""
    emulator, api_key, list_id = mailchimp_account
    email, new_email = "shared.member@fastmail.com", "q.moved@fastmail.com"
    p, q = two_contacts_one_member(emulator, api_key, list_id, email)
    q = PersonContact.objects.get(pk=q.pk)
    q.email = new_email
    q.save()
    make_all_due()
    drain()
    member = emulator.get_member(api_key, list_id, email)
    moved = emulator.get_member(api_key, list_id, new_email)
    assert member is not None and member["status"] == "subscribed", (
        "shared address: %s; Q's new address: %s" % (member and member["status"], moved and moved["status"]))
    assert moved is None or moved["status"] != "subscribed", "Q's new address was subscribed without consent"
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is True


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("p_spelling", [None, "dup.delete@\uff46astmail.com"], ids=["same", "fullwidth"])
def test_deleting_a_duplicate_contact_does_not_erase_the_other_contacts_member(
        shop, configuration, mailchimp_account, p_spelling):
    """Two contacts of one address (one member): P consents (subscribed); Q is a duplicate (a contact the newsletter
    block or a guest checkout made). The admin deletes the duplicate Q: the shop erases (permanently deletes) the
    shared member, so P, who consents, loses her subscription for good (receivers.contacts.contact_deleted ->
    state.erase, without looking at the shop's other contacts with the address). Also where P is stored with a
    fullwidth letter (sent as the ASCII spelling): the contacts' address keys say P still has the address."""
    emulator, api_key, list_id = mailchimp_account
    email = "dup.delete@fastmail.com"
    p, q = two_contacts_one_member(emulator, api_key, list_id, email, p_spelling)
    PersonContact.objects.get(pk=q.pk).delete()
    make_all_due()
    drain()
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", member and member["status"]
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is True
    # The erased contact's own customer goes; the other contact's stays.
    assert emulator.get_customer(api_key, configuration.store_id, str(q.pk)) is None
    assert emulator.get_customer(api_key, configuration.store_id, str(p.pk))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("in_one_transaction", [False, True])
def test_anonymizing_an_account_with_someone_elses_address_does_not_erase_their_member(
        shop, configuration, mailchimp_account, in_one_transaction):
    """P consents (subscribed). Someone registers an account Q with P's address (nothing proves it theirs) and asks
    Shuup's GDPR anonymization of their own account (a task; staff run Shuup's Anonymizer on it): the shop
    permanently deleted the shared member in Mailchimp, so a stranger could have any subscriber erased for good
    (receivers.contacts.anonymization_requested_receiver). Also with the anonymized save and Shuup's anonymization
    request in one transaction (Shuup's GDPR view): the worker finds the row to erase still holding the shared
    address last sent, and must not delete it."""
    from django.db import transaction
    from shuup.gdpr.anonymizer import Anonymizer
    emulator, api_key, list_id = mailchimp_account
    email = "victim.anon.%s@fastmail.com" % ("atomic" if in_one_transaction else "apart")
    p, q = two_contacts_one_member(emulator, api_key, list_id, email)
    q.add_to_shop(shop)
    if in_one_transaction:
        with transaction.atomic():
            Anonymizer().anonymize(shop, contact=PersonContact.objects.get(pk=q.pk))
    else:
        Anonymizer().anonymize(shop, contact=PersonContact.objects.get(pk=q.pk))
    make_all_due()
    drain()
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", member and member["status"]
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is True
    if in_one_transaction:
        assert emulator.get_customer(api_key, configuration.store_id, str(q.pk)) is None


@pytest.mark.usefixtures("commits")
def test_a_strangers_old_press_does_not_mail_a_link_after_the_admin_withdrew_the_consent(
        shop, configuration, mailchimp_account):
    """P consents (subscribed), Q does not. A stranger presses the newsletter block with the address: Q's row asks
    a confirmation (P, subscribed, needs none). The admin then withdraws P's consent (the member is unsubscribed)
    and later edits Q's name: the stranger's press, made before the withdrawal, mails the person who just
    withdrew no confirmation link."""
    emulator, api_key, list_id = mailchimp_account
    email = "two.contacts@fastmail.com"
    p, q = two_contacts_one_member(emulator, api_key, list_id, email)
    subscribe_address(shop, email)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    edit_and_send(p, marketing_permission=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    edit_and_send(q, first_name="Renamed")
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert row_of(q).consent_request == ""


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("consents", [True, False], ids=["consenting", "not consenting"])
def test_one_contacts_withdrawal_is_the_addresss_once_mailchimp_unsubscribed_it(shop, configuration,
                                                                                mailchimp_account, consents):
    """P and Q share an address; Q consents or not, and a stranger's press asked Q to confirm. The admin withdraws
    P: once the withdrawal has unsubscribed the one member of the address, Q learns it as from Mailchimp's
    webhook: no consent, no request (no link mailed to the address that was just unsubscribed)."""
    emulator, api_key, list_id = mailchimp_account
    email = "two.withdrawals@fastmail.com"
    p, q = two_contacts_one_member(emulator, api_key, list_id, email)
    if consents:
        edit_and_send(q, marketing_permission=True)
    SyncState.objects.filter(object_id=q.pk, kind=SyncKind.CONTACT).update(consent_request=ConsentRequest.CONFIRM)
    edit_and_send(p, marketing_permission=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert (PersonContact.objects.get(pk=q.pk).marketing_permission, row_of(q).consent_request) == (False, "")


@pytest.mark.usefixtures("commits")
def test_withdrawing_one_contact_leaves_no_other_contact_of_the_address_claiming_subscribed(
        shop, configuration, mailchimp_account):
    """Someone subscribed in the block; the admin later creates their account with consent and the same address
    (one member, subscribed). The admin then unticks the block person: Mailchimp's member is unsubscribed, and the
    account, whose row still said subscribed, learns it as from any send that finds its member unsubscribed: its
    consent is withdrawn (logged) and its account page no longer claims a subscription (review aud6)."""
    from shoop_mailchimp.models import MailchimpLogEntry
    from shoop_mailchimp.storefront import subscriptions
    emulator, api_key, list_id = mailchimp_account
    email = "shared.address@fastmail.com"
    subscribe_address(shop, email, first_name="Ann")
    drain()
    block_person = PersonContact.objects.get(email=email)
    account = new_person(permission=True, email=email)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"

    edit_and_send(block_person, marketing_permission=False)
    edit_and_send(account, first_name="Renamed")  # a later send of the account asks no confirmation

    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    account = PersonContact.objects.get(pk=account.pk)
    assert subscriptions.newsletter_status(shop, account) != subscriptions.SUBSCRIBED
    assert account.marketing_permission is False
    entry = MailchimpLogEntry.objects.get(action="send.unsubscribe")
    assert "withdrawn for 1 of 2 contacts" in entry.message
