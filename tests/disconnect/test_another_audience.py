"""Moving a shop to another audience: refused while its store exists (connected, paused, or disconnected with the
store kept: the store belongs to its audience), done by a disconnect that deletes the store and an Initialize with
the new audience. Only that Initialize forgets the old audience's member facts (review19 finding 3), and consent
withdrawn or a contact erased meanwhile is never lost nor turned against the new audience's members (review19b
findings 1, 3, 4, 5)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import field_error, post_shop_form, url
from tests.helpers import make_all_due, member_writes, new_person, row_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_reconnecting_to_another_audience_subscribes_the_consenting_contacts_there(admin_client, connected,
                                                                                   mailchimp_account):
    """The re-created store lives in the new audience, which knows none of the shop's members: a contact who
    consented is subscribed there, as by a first send (not ``transactional`` as a member the shop knew)."""
    emulator, api_key, list_id = mailchimp_account
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    configuration.customer_tag = "customer"
    configuration.save()
    person = new_person()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    assert emulator.get_store(api_key, connected.store_id) is None

    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1")
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == other_list
    assert configuration.disconnected_on is None and configuration.is_active
    store = emulator.get_store(api_key, configuration.store_id)
    assert store is not None and store["list_id"] == other_list

    member = emulator.get_member(api_key, other_list, person.email)
    assert member is not None, "the contact reached the new audience"
    assert person.marketing_permission and member["status"] == "subscribed", (
        "the contact consented in the shop, but the new audience holds them as %r (row: %r)"
        % (member["status"], row_of(person).member_status))
    row = row_of(person)
    assert (row.member_status, row.opt_in) == ("subscribed", True)
    assert row.unique_email_id == member["unique_email_id"], "the new audience's member id, not the old one's"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed", "the old one is left alone"


def test_choosing_another_audience_while_connected_is_refused_with_the_way_to_move(admin_client, connected,
                                                                                    mailchimp_account):
    """The store belongs to its audience in Mailchimp: sending on to another audience through it would file the
    customers in the old one and the consenting contacts as ``transactional`` in the new one."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person()
    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list)
    error = field_error(response, "list_id")
    assert "To move to another audience: disconnect the shop and delete its store" in error, error
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == list_id and configuration.is_active

    emulator.clear_requests()
    person.first_name = "Renamed"
    person.save()
    assert emulator.get_member(api_key, other_list, person.email) is None
    assert member_writes(emulator, person.email) and emulator.get_member(api_key, list_id, person.email)[
        "merge_fields"]["FNAME"] == "Renamed"


def disconnect_deleting_the_store(client, configuration, emulator):
    client.post(url("disconnect"), {"mailchimp_delete_store_id": configuration.store_id})
    assert emulator.get_store(configuration.api_key, configuration.store_id) is None


def test_choosing_another_audience_while_paused_is_refused_and_nothing_reaches_the_old_audience(
        admin_client, connected, mailchimp_account):
    """Paused (a refused key), the store and its audience exist: a save that took another audience resumed sending
    through the old audience's store, without Initialize, and a customer's opt-in read from the new audience
    subscribed in the old one a contact who never consented there (review19b finding 1)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False, email="no.consent@fastmail.com")  # a buyer who never consented
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(
        paused_reason="Mailchimp refused the API key: API Key Invalid")
    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")  # its own sign-up form

    error = field_error(post_shop_form(admin_client, connected.shop, list_id=other_list), "list_id")
    assert "To move to another audience: disconnect the shop and delete its store" in error, error
    drain()
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == list_id and configuration.paused_reason and not configuration.is_active
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"


def test_choosing_another_audience_while_disconnected_with_the_store_kept_is_refused_until_it_is_deleted(
        admin_client, connected, mailchimp_account):
    """A kept store still belongs to the old audience (Initialize could never move it): the form says so at once,
    and takes the audience once a disconnect deleted the store."""
    emulator, api_key, list_id = mailchimp_account
    other_list = emulator.add_list(api_key, name="New audience")
    admin_client.post(url("disconnect"))  # the store is kept

    error = field_error(post_shop_form(admin_client, connected.shop, list_id=other_list), "list_id")
    assert "disconnect the shop and delete its store" in error, error
    assert MailchimpConfiguration.objects.get(pk=connected.pk).list_id == list_id

    disconnect_deleting_the_store(admin_client, connected, emulator)
    assert post_shop_form(admin_client, connected.shop, list_id=other_list).status_code == 302
    assert MailchimpConfiguration.objects.get(pk=connected.pk).list_id == other_list


def test_a_withdrawal_made_while_disconnected_survives_choosing_another_audience_and_back(
        admin_client, connected, mailchimp_account):
    """Choosing an audience forgets nothing: only an Initialize that creates the store in another audience does.
    An admin who chose another audience, then the old one again, reconnects with the consent last sent known,
    and a consent withdrawn meanwhile is sent as a withdrawal (not as a first send, which changes no member)
    (review19b finding 4)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)

    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = False  # withdrawn in the admin while disconnected
    person.save()
    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list).status_code == 302
    row = row_of(person)
    assert (row.member_status, row.opt_in, row.email) == ("subscribed", True, person.email), "nothing forgotten yet"
    assert post_shop_form(admin_client, connected.shop, list_id=list_id, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed", (
        "the consent withdrawn while disconnected never reached the audience")
    assert emulator.get_member(api_key, other_list, person.email) is None


def test_an_unsubscribe_pressed_while_disconnected_reaches_the_new_audience(admin_client, connected,
                                                                            mailchimp_account):
    """The shopper pressed Unsubscribe while disconnected; the marketer imported the old audience's subscribers
    into the new one. The shopper's request outlives the forgotten member status: the member of the new
    audience is unsubscribed, and the request is done (review19b finding 3)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)

    subscriptions.withdraw_consent(connected.shop, PersonContact.objects.get(pk=person.pk))  # account page
    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")  # the marketer's import
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
    assert emulator.get_member(api_key, other_list, person.email)["status"] == "unsubscribed", (
        "the shopper pressed Unsubscribe, and the shop's audience still mails them")
    row = row_of(person)
    assert (row.member_status, row.consent_request) == ("unsubscribed", "")


@pytest.mark.parametrize("send_unconsented", [True, False])
def test_a_consent_withdrawn_in_the_admin_while_disconnected_reaches_the_new_audience(
        admin_client, connected, mailchimp_account, send_unconsented):
    """The consent last sent was given, and the admin withdrew it while disconnected: once the old audience's
    facts are forgotten the withdrawal is an unsubscribe request, sent to the member the new audience has of
    the address, also when the shop sends only people who consented (review19b finding 3)."""
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(send_unconsented=send_unconsented)
    person, staying = new_person(email="leaving@fastmail.com"), new_person(email="staying@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)

    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = False
    person.save()
    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email, staying.email], status="subscribed")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, send_unconsented=send_unconsented,
                          initialize="1").status_code == 302
    drain()

    assert emulator.get_member(api_key, other_list, person.email)["status"] == "unsubscribed", (
        "the consent withdrawn in the shop, and the shop's audience still mails them")
    assert row_of(person).member_status == "unsubscribed"
    assert emulator.get_member(api_key, other_list, staying.email)["status"] == "subscribed", "still consents"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed", "the old one left alone"


def test_an_erasure_recorded_while_disconnected_is_done_in_the_old_audience_not_the_new_one(
        admin_client, connected, mailchimp_account):
    """A contact deleted while disconnected: the shop had sent the person to the old audience, never to the new
    one, where the address subscribed on its own form. The permanent delete goes to the old audience at the
    Initialize that moves the shop; the new audience's member stays (review19b finding 5)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)
    contact_id = person.pk
    person.delete()  # recorded: erased in Mailchimp once the shop sends again

    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")  # its own sign-up form
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert emulator.get_member(api_key, other_list, person.email)["status"] == "subscribed", (
        "the shop permanently deleted a member of the new audience it never sent")
    assert emulator.get_member(api_key, list_id, person.email) is None, "erased where the shop had sent them"
    assert MailchimpLogEntry.objects.filter(contact_id=contact_id, action="member.delete_permanent",
                                            message__contains=list_id).exists()


def test_an_erasure_for_an_old_audience_deleted_meanwhile_is_dropped_with_the_reason(
        admin_client, connected, mailchimp_account):
    """The old audience was deleted in Mailchimp (its members with it): the erasure has nothing left to delete,
    and the new audience's member of the address is left alone; the log says why it was not sent."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)
    contact_id = person.pk
    person.delete()
    emulator.delete_list(api_key, list_id)

    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [person.email], status="subscribed")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert emulator.get_member(api_key, other_list, person.email)["status"] == "subscribed"
    entry = MailchimpLogEntry.objects.get(contact_id=contact_id, action="member.delete_permanent")
    assert "no longer exists" in entry.message and entry.kind == "warning", entry.message


def test_the_merge_fields_the_shop_created_are_forgotten_with_the_old_audience(admin_client, connected,
                                                                                mailchimp_account):
    """The fields the shop created (and those it was to clear on members) are the old audience's: the new audience
    has none of them, so nothing is sent empty there, nor is an unrelated field of the same tag taken for ours."""
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(
        created_merge_fields=["MMERGE9"], merge_fields_to_clear={"MMERGE9": "2026-01-01T00:00:00+00:00"})
    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302

    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.members_list_id == other_list
    assert not configuration.created_merge_fields and not configuration.merge_fields_to_clear


@pytest.mark.parametrize("before", ["transactional", "unsubscribed"])
def test_a_strangers_unconfirmed_signup_is_not_subscribed_outright_in_a_new_audience(
        admin_client, connected, mailchimp_account, before):
    """Under single opt-in a stranger types into the newsletter block the address of a guest buyer
    (``transactional``) or of someone who unsubscribed: the old audience rightly holds it ``pending`` (its owner
    never confirmed). Moved to another audience (disconnect, store deleted, Initialize with the new audience), the
    press is still only a request its owner has not confirmed: the new audience holds the address pending, never
    subscribed (third review of issue 19, finding 1)."""
    emulator, api_key, list_id = mailchimp_account
    assert not connected.double_opt_in
    email = "guest.owner@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status=before)

    subscriptions.subscribe_address(connected.shop, email)
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    person = PersonContact.objects.get(email=email)
    assert row_of(person).member_status == "pending"

    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1")
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == other_list and configuration.is_active
    drain()

    member = emulator.get_member(api_key, other_list, email)
    assert member is None or member["status"] != "subscribed", (
        "a stranger's never-confirmed press subscribed %s in the new audience" % email)


def test_a_new_address_never_confirmed_under_double_opt_in_is_not_subscribed_outright_in_a_new_audience(
        admin_client, connected, mailchimp_account):
    """Under double opt-in a stranger types a new address into the block: Mailchimp mails its owner a link
    (``pending``), never clicked. The shop then moves to another audience with double opt-in off: the press is
    still a request its owner has not confirmed, and the new audience is asked ``pending`` again, not
    ``subscribed``."""
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(double_opt_in=True)
    email = "never.clicked@fastmail.com"
    subscriptions.subscribe_address(connected.shop, email)
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"

    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    other_list = emulator.add_list(api_key, name="New audience")
    response = post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1", double_opt_in=None)
    assert response.status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == other_list and configuration.is_active and not configuration.double_opt_in
    drain()

    assert emulator.get_member(api_key, other_list, email)["status"] == "pending"


@pytest.mark.parametrize("erased_consents, left, action", [
    (False, "subscribed", "member.kept"), (True, "unsubscribed", "member.unsubscribed")])
def test_an_erasure_recorded_while_disconnected_keeps_a_member_another_contact_has_the_address_of(
        admin_client, connected, mailchimp_account, erased_consents, left, action):
    """A duplicate contact of a consenting person's address deleted while disconnected: the old audience's member is
    the other contact's too, and the erasure done at the Initialize that moves the shop leaves it there, as a sent
    erasure does (fourth review of issue 19). When the erased contact was the only one consenting, the member is
    not deleted but unsubscribed there, as a sent erasure does: nobody left consents to it."""
    emulator, api_key, list_id = mailchimp_account
    email = "shared.leaving@fastmail.com"
    consenting = new_person(permission=True, email=email)
    duplicate = new_person(permission=False, email=email)
    if erased_consents:
        consenting, duplicate = duplicate, consenting
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)
    contact_id = duplicate.pk
    duplicate.delete()

    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active

    assert emulator.get_member(api_key, list_id, email)["status"] == left
    assert MailchimpLogEntry.objects.filter(contact_id=contact_id, action=action).exists()


def test_an_unconfirmed_consent_kept_through_an_unticked_order_is_not_subscribed_outright_in_a_new_audience(
        admin_client, connected, mailchimp_account):
    """Found by review aud8: the unticked order's save dropped the confirmation request the consent waited for; moved
    to another audience, the never-confirmed address was subscribed outright (the third review's finding 1)."""
    from tests.sync.test_orders import asked_to_confirm_then_ordered_unticked
    emulator, api_key, list_id = mailchimp_account
    assert not connected.double_opt_in
    email = "never.confirmed@fastmail.com"
    person = asked_to_confirm_then_ordered_unticked(connected.shop, emulator, api_key, list_id, email)
    assert PersonContact.objects.get(pk=person.pk).marketing_permission is True

    admin_client.post(url("disconnect"))
    admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.list_id == other_list and configuration.is_active
    make_all_due()
    drain()
    member = emulator.get_member(api_key, other_list, email)
    assert member is None or member["status"] != "subscribed", (row_of(person).consent_request, member["status"])


def test_an_erasure_sent_by_initialize_and_by_the_worker_is_the_contact_kinds_one(
        admin_client, connected, mailchimp_account, monkeypatch):
    """Initialize's erasure in the old audience and the worker's erasure run the contact kind's one step (the
    permanent delete, a member another contact still has the address of kept): not written twice (review aud10)."""
    from shoop_mailchimp.sync.kinds import contact as contact_kind

    erased = []
    original = contact_kind.erase_member

    def erase_member(list_id, email, held_by_others, log, where=""):
        erased.append((list_id, email, held_by_others))
        return (yield from original(list_id, email, held_by_others, log, where))

    monkeypatch.setattr(contact_kind, "erase_member", erase_member)
    emulator, api_key, list_id = mailchimp_account
    person = new_person(email="leaving@fastmail.com")
    admin_client.post(url("disconnect"))
    disconnect_deleting_the_store(admin_client, connected, emulator)
    person.delete()
    other_list = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=other_list, initialize="1").status_code == 302
    drain()
    assert erased == [(list_id, "leaving@fastmail.com", False)]
    assert emulator.get_member(api_key, list_id, "leaving@fastmail.com") is None

    staying = new_person(email="staying@fastmail.com")
    assert emulator.get_member(api_key, other_list, staying.email)["status"] == "subscribed"
    staying.delete()
    drain()
    assert erased[1:] == [(other_list, "staying@fastmail.com", False)]
    assert emulator.get_member(api_key, other_list, "staying@fastmail.com") is None
