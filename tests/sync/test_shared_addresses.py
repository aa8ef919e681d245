"""Two contacts of one shop with one address (a newsletter block's contact and the account registered later, a
guest checkout's contact): Mailchimp has one member of it. One contact leaving the address, deleted or anonymized
never takes the other's member with it; one contact's withdrawal voids a stranger's confirmation asked for the other
(fourth review of issue 19, aud6). A contact moving to an address another contact has, without consent of its own,
never changes that member's status: a withdrawal saved with the move reaches the member of the old address (fifth
review, aud8). The other contacts of an address learn one contact's withdrawal once it unsubscribed the member, as
decided when the shop decided it (sixth review, aud9)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import ConsentRequest, SyncKind, SyncState
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.storefront.subscriptions import subscribe_address
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, row_of, send_due
from tests.storefront.conftest import newsletter_block, shopper_client, shopper_user  # noqa: F401 (fixtures)
from tests.storefront.helpers import choose

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


def two_consenting(emulator, api_key, list_id, email):
    """P and Q, both consenting, one address, one member (subscribed)."""
    p = new_person(permission=True, email=email)
    q = new_person(permission=True, email=email)
    drain()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    return p, q


def withdraw(contact):
    contact = PersonContact.objects.get(pk=contact.pk)
    contact.marketing_permission = False
    contact.save()  # as the admin's contact form saves it


def renamed_in_a_burst(shop_id, contacts):
    """Each contact saved with a new first name, and the burst's batches that send what is due run to their end."""
    from shoop_mailchimp.models import BatchOrigin, MailchimpBatch
    from shoop_mailchimp.sync import bulk
    from shoop_mailchimp.sync.rounds import run_due_work

    for contact in contacts:
        contact = PersonContact.objects.get(pk=contact.pk)
        contact.first_name = "Renamed"
        contact.save()
    run_due_work()
    assert bulk.resume_batches(shop_id, poll_interval=0.02, timeout=30) == 0
    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).exists()


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
    assert "withdrawn for 1 of 1 contacts" in entry.message  # the other contacts told


@pytest.mark.usefixtures("commits", "newsletter_block")
def test_a_consent_given_after_the_admins_withdrawal_of_the_other_contact_is_not_lost(
        shop, configuration, mailchimp_account, django_user_model):
    """P (a block subscriber) and Q (an account, activated through the mailed link: its address is proven) share an
    address; P consents, Q does not; one member, subscribed. The admin unticks P; before the worker sends it, Q
    presses *Subscribe* on the account page. The shopper's consent is the address's last word: the shop must not end
    with Q consenting and its page saying subscribed while Mailchimp's member is unsubscribed, nor silently drop the
    consent Q gave after the admin's withdrawal."""
    from django.test import Client
    from shuup.core.models import get_person_contact

    emulator, api_key, list_id = mailchimp_account
    email = "reconsent.race@fastmail.com"
    p = new_person(permission=True, email=email)
    user = django_user_model.objects.create_user("q-shopper", email, "pw")
    q = get_person_contact(user)
    q.add_to_shop(shop)
    shop_consent.record_proof(q.pk, email)
    drain()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"

    from shoop_mailchimp.sync import delivery
    original = delivery.background_drainer.wake
    delivery.background_drainer.wake = lambda: None  # the worker has not run yet: both decisions wait
    try:
        withdraw(p)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        choose(browser, subscribe=True)
    finally:
        delivery.background_drainer.wake = original
    assert PersonContact.objects.get(pk=q.pk).marketing_permission is True
    for _ in range(3):
        make_all_due()
        drain()
    q = PersonContact.objects.get(pk=q.pk)
    member = emulator.get_member(api_key, list_id, email)["status"]
    page = subscriptions.newsletter_status(shop, q)
    assert not (page == subscriptions.SUBSCRIBED and member == "unsubscribed"), (
        "Q's page says subscribed, Mailchimp's member is unsubscribed")
    assert q.marketing_permission is True and member in ("subscribed", "pending"), (
        "Q's consent, given after the withdrawal: permission=%s, member=%s, page=%s" % (
            q.marketing_permission, member, page))


@pytest.mark.usefixtures("commits")
def test_a_contact_of_the_address_not_sent_yet_learns_the_unsubscribe_too(shop, configuration, mailchimp_account):
    """P consents (subscribed). The admin creates Q with consent and the same address, then unticks P; the worker
    sends both in one round. P's send unsubscribes the one member; Q, whose row had not been sent yet, is not told
    (AddressUnsubscribed.remember finds the rows by the address last sent, which only P's row has, and returns):
    Q's send then asks the just-unsubscribed address to confirm (Mailchimp mails it a link) and Q's page claims a
    subscription is awaited / given, unlike when Q had been sent before (the team's own test)."""
    from shoop_mailchimp.sync import delivery

    emulator, api_key, list_id = mailchimp_account
    email = "not.sent.yet@fastmail.com"
    p = new_person(permission=True, email=email)
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    original = delivery.background_drainer.wake
    delivery.background_drainer.wake = lambda: None
    try:
        q = new_person(permission=True, email=email)
        withdraw(p)
    finally:
        delivery.background_drainer.wake = original
    for _ in range(3):
        make_all_due()
        drain()
    member = emulator.get_member(api_key, list_id, email)["status"]
    q = PersonContact.objects.get(pk=q.pk)
    assert (member, q.marketing_permission) == ("unsubscribed", False), (
        "member=%s, Q consents=%s, Q's page=%s" % (member, q.marketing_permission,
                                                  subscriptions.newsletter_status(shop, q)))


@pytest.mark.usefixtures("commits")
def test_other_contact_learns_the_unsubscribe_when_the_withdrawal_send_failed_after_the_member_write(
        shop, configuration, mailchimp_account):
    """The admin withdraws P. The worker's send unsubscribes the one member of the address, then the customer PUT
    that follows it fails once (a 503). The retry finds the consent already sent and changes no status, so Q, who
    shares the address, is never told: Q's account page keeps claiming a subscription while Mailchimp holds the
    address unsubscribed (and Q's later consent changes look like no change). Same as when the send succeeds."""
    emulator, api_key, list_id = mailchimp_account
    email = "fail.after.member@fastmail.com"
    p, q = two_consenting(emulator, api_key, list_id, email)
    emulator.faults.fail("/ecommerce/stores/*/customers/*", status=503, method="PUT", times=1,
                         title="Service Unavailable")
    withdraw(p)
    for _ in range(3):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    q = PersonContact.objects.get(pk=q.pk)
    assert (q.marketing_permission, subscriptions.newsletter_status(shop, q)) != (True, subscriptions.SUBSCRIBED), (
        "Q still consents and its page says subscribed; Mailchimp's member is %s; Q's row member_status=%r" % (
            emulator.get_member(api_key, list_id, email)["status"], row_of(q).member_status))


def test_other_contact_learns_the_unsubscribe_when_a_batchs_customer_failed_after_the_member_write(
        burst_settings, mailchimp_account):
    """As above, the withdrawal sent in a burst's batch: the members phase unsubscribed the address, the customers
    phase refused P's customer once. The row retries, and Q learns the unsubscribe all the same."""
    from tests.sync.conftest import BURST_THRESHOLD

    emulator, api_key, list_id = mailchimp_account
    email = "batch.fail.after.member@fastmail.com"
    p, q = two_consenting(emulator, api_key, list_id, email)
    others = [new_person(permission=False) for _ in range(BURST_THRESHOLD - 1)]
    drain()
    emulator.faults.fail("/ecommerce/stores/*/customers/%d" % p.pk, status=503, method="PUT", times=1,
                         title="Service Unavailable")
    withdraw(p)
    renamed_in_a_burst(burst_settings.shop_id, others)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    q = PersonContact.objects.get(pk=q.pk)
    assert (q.marketing_permission, subscriptions.newsletter_status(burst_settings.shop, q)) != (
        True, subscriptions.SUBSCRIBED)
    assert q.marketing_permission is False


@pytest.mark.usefixtures("commits")
def test_a_withdrawal_saved_with_a_move_onto_a_held_address_is_learnt_by_the_old_addresss_other_contacts(
        shop, configuration, mailchimp_account):
    """R and Q share the address o@ and both consent (one member, subscribed); P consents at p@. The admin edits Q:
    address p@ (P's) and marketing permission unticked, in one save. Q arrives at P's member without consent of its
    own (its status is left alone), and Q's withdrawal is sent to the member of the old address o@, which
    unsubscribes it. R shares o@ and is never told (the arrival path sets no AddressUnsubscribed): R's account page
    keeps saying subscribed while Mailchimp holds o@ unsubscribed."""
    emulator, api_key, list_id = mailchimp_account
    old, held = "old.shared@fastmail.com", "p.held@fastmail.com"
    r = new_person(permission=True, email=old)
    q = new_person(permission=True, email=old)
    new_person(permission=True, email=held)  # P, whose address Q moves onto
    for _ in range(2):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, held)["status"] == "subscribed"

    q = PersonContact.objects.get(pk=q.pk)
    q.email, q.marketing_permission = held, False
    q.save()  # the admin's contact form
    for _ in range(3):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, held)["status"] == "subscribed"  # P's, left alone
    old_status = emulator.get_member(api_key, list_id, old)["status"]
    r = PersonContact.objects.get(pk=r.pk)
    page = subscriptions.newsletter_status(shop, r)
    assert not (old_status == "unsubscribed" and (r.marketing_permission or page == subscriptions.SUBSCRIBED)), (
        "o@ is %s in Mailchimp; R consents=%s, R's page=%s" % (old_status, r.marketing_permission, page))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("withdrawn_first", [False, True], ids=["deleted", "unticked-then-deleted"])
def test_erasing_the_only_consenting_contact_of_a_shared_address_leaves_no_subscription_without_consent(
        shop, configuration, mailchimp_account, withdrawn_first):
    """P consents (subscribed); Q, a duplicate contact of the same address, never consented. The admin deletes P
    (a GDPR erasure; or first unticks P's marketing permission, then deletes P before the worker's round). The
    erasure sees Q still holding the address and leaves the member as it is: subscribed. Nobody in the shop consents
    any more (and P's withdrawal is lost), yet Mailchimp keeps mailing the address; Q's page says not subscribed."""
    from shoop_mailchimp.sync import delivery

    emulator, api_key, list_id = mailchimp_account
    email = "erased.consenter%s@fastmail.com" % ("-w" if withdrawn_first else "")
    p, q = two_contacts_one_member(emulator, api_key, list_id, email)
    original = delivery.background_drainer.wake
    delivery.background_drainer.wake = lambda: None
    try:
        if withdrawn_first:
            withdraw(p)
        PersonContact.objects.get(pk=p.pk).delete()
    finally:
        delivery.background_drainer.wake = original
    for _ in range(3):
        make_all_due()
        drain()
    q = PersonContact.objects.get(pk=q.pk)
    assert q.marketing_permission is False
    assert emulator.get_member(api_key, list_id, email)["status"] != "subscribed", (
        "no contact consents; Mailchimp's member is still subscribed (Q's page: %s)" % (
            subscriptions.newsletter_status(shop, q)))


# Found by independent review aud11 (issue 19): the contact owns the member of its address or writes nothing there.
@pytest.mark.usefixtures("commits")
def test_a_strangers_account_without_consent_first_sent_renames_a_guest_subscribers_member(
        shop, configuration, mailchimp_account):
    """Gil bought as a guest and ticked the box: Mailchimp holds his member subscribed (FNAME "Gil"). Someone else
    creates an account with Gil's address and gives no consent; the shop sends contacts without consent
    (the default). That account's first send is a member PUT with its own names: Gil's newsletter now greets him
    as the stranger. The first-send rule (first_at_shared) only looks at the shop's contacts, not at a member
    Mailchimp holds from a guest order (contact.py held_by_others)."""
    from tests.sync.test_guest_orders import guest_order

    emulator, api_key, list_id = mailchimp_account
    email = "gil.guest.sub@fastmail.com"
    guest_order(shop, email, marketing_permission=True, name="Gil Guest")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed"
    before = (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME"))
    new_person(permission=False, email=email, first_name="Mallory", last_name="Stranger")
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == before, (
        "the guest subscriber's member renamed by a stranger's account: %r (was %r)" % (
            member["merge_fields"], before))


@pytest.mark.usefixtures("commits")
def test_a_strangers_block_signup_renames_a_subscriber_once_the_audience_fields_are_read_again(
        shop, configuration, mailchimp_account):
    """Margaret subscribed on Mailchimp's own form. A stranger types her address into the newsletter block with the
    names "Fool" "X": the signup leaves her names alone. Later the shop reads the audience's merge fields (the
    account check every shop page save queues, mapping the default fields), which sends every contact again: the
    block's contact is written in full, and Margaret's newsletter now greets "Fool X"."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    from tests.sync.test_audience_data import read_audience_fields

    emulator, api_key, list_id = mailchimp_account
    email = "margaret.later@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed",
                         merge_fields={"FNAME": "Margaret", "LNAME": "Hamilton"})
    subscribe_address(shop, email, first_name="Fool", last_name="X")
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Margaret"
    read_audience_fields(configuration)
    send_due(rounds=3)
    from shoop_mailchimp.sync import bulk
    bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30)
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Margaret", "Hamilton"), (
        "the stranger's names replaced the subscriber's: %r" % member["merge_fields"])


@pytest.mark.usefixtures("commits")
def test_deleting_a_strangers_account_left_off_a_subscribers_member_does_not_erase_it(
        shop, configuration, mailchimp_account):
    """Margaret subscribed on Mailchimp's own form (no contact of the shop has her address). A stranger's account
    with her address, without consent, is sent: its first send finds her member and leaves it alone (not its own).
    The admin deletes the stranger's account: the erasure must not permanently delete Margaret's member, which
    was never the stranger's and carries none of its data."""

    emulator, api_key, list_id = mailchimp_account
    email = "margaret.erased@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed",
                         merge_fields={"FNAME": "Margaret", "LNAME": "Hamilton"})
    stranger = new_person(permission=False, email=email, first_name="Mallory", last_name="Stranger")
    send_due(rounds=3)
    assert row_of(stranger).foreign_member
    PersonContact.objects.get(pk=stranger.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed"
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Margaret", "Hamilton")


def rounds(n=3):
    for _ in range(n):
        make_all_due()
        drain()


@pytest.mark.usefixtures("commits")
def test_the_only_consenting_contact_moving_off_a_shared_address_leaves_no_subscription_without_consent(
        shop, configuration, mailchimp_account):
    """P consents (subscribed); Q, a duplicate contact of the same address, never consented. The admin changes P's
    address to a new one (P keeps consenting). P's new address is subscribed; the old address's member was left
    subscribed because Q still holds the address, though nobody in the shop consents for it any more: the same
    situation the erasure unsubscribes (ErasePlan withdraw), reached by a move (ContactPlan previous_shared). Review
    aud11. The member is unsubscribed, never deleted (it is Q's too), and Q learns it."""
    emulator, api_key, list_id = mailchimp_account
    old, new = "moving.consenter@fastmail.com", "moved.consenter@fastmail.com"
    p = new_person(permission=True, email=old)
    q = new_person(permission=False, email=old)
    rounds(2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed"
    p = PersonContact.objects.get(pk=p.pk)
    p.email = new
    p.save()
    rounds(3)
    assert emulator.get_member(api_key, list_id, new)["status"] == "subscribed"
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is True
    q = PersonContact.objects.get(pk=q.pk)
    assert q.marketing_permission is False
    member = emulator.get_member(api_key, list_id, old)
    assert member is not None and member["status"] == "unsubscribed", (
        "no contact of %s consents; Mailchimp's member is %s" % (old, member and member["status"]))
    assert subscriptions.newsletter_status(shop, q) == subscriptions.NOT_SUBSCRIBED
    assert row_of(q).member_status == "unsubscribed"


@pytest.mark.usefixtures("commits")
def test_a_contact_moving_off_a_shared_address_leaves_it_subscribed_for_another_consenting_contact(
        shop, configuration, mailchimp_account):
    """P and Q share an address and both consent. P moves to a new address: Q's consent still holds the old
    address's member, which stays subscribed, and Q keeps consenting."""
    emulator, api_key, list_id = mailchimp_account
    old, new = "moving.both@fastmail.com", "moved.both@fastmail.com"
    p, q = two_consenting(emulator, api_key, list_id, old)
    edit_and_send(p, email=new)
    rounds(2)
    assert emulator.get_member(api_key, list_id, new)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed"
    assert PersonContact.objects.get(pk=q.pk).marketing_permission is True


@pytest.mark.usefixtures("commits")
def test_an_unsubscribe_a_send_finds_in_mailchimp_is_learnt_by_the_other_contacts_of_the_address(
        shop, configuration, mailchimp_account):
    """P and Q share an address and both consent (one member, subscribed). The person unsubscribes in Mailchimp and
    the webhook is lost. The admin renames P: the send's answer shows the member unsubscribed, and P's consent is
    withdrawn (after_close -> withdraw_consent), as the webhook would have done. Q, of the same address, was not
    told (withdraw_consent teaches only the row's own contact): Q still consented and Q's account page said
    subscribed while Mailchimp holds the address unsubscribed. The webhook would have withdrawn both. Review aud11."""
    emulator, api_key, list_id = mailchimp_account
    email = "found.unsubscribed@fastmail.com"
    p, q = two_consenting(emulator, api_key, list_id, email)
    emulator.set_member_status(api_key, list_id, email, "unsubscribed")  # no webhook reaches the shop
    edit_and_send(p, first_name="Renamed")
    rounds(2)
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is False
    q = PersonContact.objects.get(pk=q.pk)
    assert (q.marketing_permission, subscriptions.newsletter_status(shop, q)) == (
        False, subscriptions.NOT_SUBSCRIBED), "Q: consents=%s, page=%s; Mailchimp: unsubscribed" % (
        q.marketing_permission, subscriptions.newsletter_status(shop, q))
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert row_of(q).member_status == "unsubscribed"


def test_an_unsubscribe_a_batch_finds_in_mailchimp_is_learnt_by_the_other_contacts_of_the_address(
        burst_settings, mailchimp_account):
    """As above, P's rename sent in a burst's batch: the members phase's answer shows the address unsubscribed, and Q
    learns it as P does."""
    from tests.sync.conftest import BURST_THRESHOLD

    emulator, api_key, list_id = mailchimp_account
    email = "batch.found.unsubscribed@fastmail.com"
    p, q = two_consenting(emulator, api_key, list_id, email)
    others = [new_person(permission=False) for _ in range(BURST_THRESHOLD - 1)]
    drain()
    emulator.set_member_status(api_key, list_id, email, "unsubscribed")  # no webhook reaches the shop
    renamed_in_a_burst(burst_settings.shop_id, [p] + others)
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is False
    q = PersonContact.objects.get(pk=q.pk)
    assert (q.marketing_permission, subscriptions.newsletter_status(burst_settings.shop, q)) == (
        False, subscriptions.NOT_SUBSCRIBED)


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("leaving", ["moved", "erased"])
def test_a_contact_without_consent_leaving_a_member_subscribed_on_mailchimps_form_leaves_it_subscribed(
        shop, configuration, mailchimp_account, client, leaving):
    """P and Q share an address, neither consents in the shop; its owner subscribed on Mailchimp's own form (the
    shop heard it by the webhook: the rows hold the member subscribed, the consent in the shop unchanged). P moves to
    another address, or is erased: no consent of the shop's leaves the address (P never gave one), so the
    subscription its owner made in Mailchimp stays."""
    from tests.webhooks.helpers import post_event

    emulator, api_key, list_id = mailchimp_account
    old, new = "mcform.shared.%s@fastmail.com" % leaving, "mcform.moved@fastmail.com"
    p = new_person(permission=False, email=old)
    q = new_person(permission=False, email=old)
    rounds(2)
    emulator.set_member_status(api_key, list_id, old, "subscribed")
    assert post_event(client, configuration, "subscribe", email=old).status_code == 200
    assert row_of(p).member_status == "subscribed"
    if leaving == "moved":
        edit_and_send(p, email=new)
    else:
        PersonContact.objects.get(pk=p.pk).delete()
    rounds(2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed"
    assert row_of(q).member_status == "subscribed"
