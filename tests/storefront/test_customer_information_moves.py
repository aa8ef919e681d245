"""A shopper moving their account to another address on Shuup's *Customer Information* page: what the move does to
the member they leave and to the member they arrive at (consent, status, names)."""
import pytest
from django.test import Client
from shuup.core.models import Contact, get_person_contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import ConsentRequest, MailchimpConfiguration, SyncKind, SyncState
from tests.helpers import new_person, send_due
from tests.storefront.conftest import newsletter_block  # noqa: F401 (a fixture of shopper_client)
from tests.storefront.test_account_page import (  # noqa: F401
    choose,
    customer_information_post,
    shopper_client,
    shopper_user,
)

pytestmark = pytest.mark.django_db


# Found by independent review aud9 (issue 19).
@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_shopper_cannot_move_their_subscription_onto_an_unconfirmed_address(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """A shopper proved their own address (activation link) and is subscribed. The shop runs double opt-in. On
    Shuup's *Customer Information* page they replace their address with someone else's (nothing proves it theirs;
    Mailchimp holds no member of it) and keep the box ticked. The shop PATCHed the subscribed member's
    email_address to the typed address: that address was subscribed outright, never asked to confirm, although any
    consent typed for it anywhere else in the storefront (block, account page, checkout box) would be ``pending``.
    The move now asks the new address's owner to confirm, and the consent stays a request until they do."""
    emulator, api_key, list_id = mailchimp_account
    person = get_person_contact(shopper_user)
    shop_consent.record_proof(person.pk, shopper_user.email)
    customer_information_post(shopper_client, email=shopper_user.email, marketing_permission="on")
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)

    victim = "never.asked@fastmail.com"
    customer_information_post(shopper_client, email=victim, marketing_permission="on")
    send_due(rounds=3)
    assert Contact.objects.get(pk=person.pk).email == victim
    member = emulator.get_member(api_key, list_id, victim)
    assert member is None or member["status"] != "subscribed", (
        "%s, typed into an account under double opt-in, is subscribed without confirming" % victim)
    assert member["status"] == "pending"
    assert [item["email_address"] for item in emulator.confirmations(api_key)] == [victim]
    row = SyncState.objects.get(shop=shop, kind=SyncKind.CONTACT, object_id=person.pk)
    assert (row.email, row.member_status, row.consent_request) == (victim, "pending", ConsentRequest.CONFIRM)
    assert row.confirmation_sent_at is not None

    customer_information_post(shopper_client, email=victim)  # the shopper withdraws: no link, an unsubscribe
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, victim)["status"] == "unsubscribed"
    assert len(emulator.confirmations(api_key)) == 1


@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_move_to_an_address_the_shopper_proved_keeps_the_subscription(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """The other side: the shopper activated their account again through the link mailed to the new address (it is
    proven theirs): their subscribed member moves there as it is, nobody is mailed a confirmation."""
    emulator, api_key, list_id = mailchimp_account
    person = get_person_contact(shopper_user)
    shop_consent.record_proof(person.pk, shopper_user.email)
    customer_information_post(shopper_client, email=shopper_user.email, marketing_permission="on")
    send_due(rounds=3)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)

    mine = "Tess.New@fastmail.com"
    shop_consent.record_proof(person.pk, mine)
    customer_information_post(shopper_client, email=mine, marketing_permission="on")
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, mine)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, shopper_user.email) is None
    assert emulator.confirmations(api_key) == []


@pytest.mark.usefixtures("commits")
def test_moving_onto_a_guest_subscribers_address_while_withdrawing_does_not_unsubscribe_the_guest(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """A guest bought with the box ticked: Mailchimp holds their address subscribed (no contact of the shop has it).
    A subscribed shopper types that guest's address into their account on Shuup's *Customer Information* page and
    unticks the marketing box in the same save. The shopper's withdrawal is theirs (their old address); the member
    they arrive at is the guest's, whose consent they cannot withdraw. For an address another *contact* holds the
    shop left that member's status alone; for a guest's, the withdrawal was written onto the guest's member and
    unsubscribed it. Now the member Mailchimp holds is read first: it keeps its status and the guest's names, and
    the withdrawal reaches the shopper's own member under the old address."""
    from tests.sync.test_guest_orders import guest_order

    emulator, api_key, list_id = mailchimp_account
    person = get_person_contact(shopper_user)
    old_address = shopper_user.email
    shop_consent.record_proof(person.pk, shopper_user.email)
    customer_information_post(shopper_client, email=shopper_user.email, marketing_permission="on")
    guest = "guest.subscriber@fastmail.com"
    guest_order(shop, guest, marketing_permission=True, name="Gina Guest")
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, guest)["status"] == "subscribed"

    customer_information_post(shopper_client, email=guest)  # the box unticked
    send_due(rounds=3)
    assert Contact.objects.get(pk=person.pk).marketing_permission is False
    assert emulator.get_member(api_key, list_id, guest)["status"] == "subscribed", (
        "the guest's subscription was withdrawn by a stranger's account edit: %s" %
        emulator.get_member(api_key, list_id, guest)["status"])
    assert emulator.get_member(api_key, list_id, old_address)["status"] == "unsubscribed"


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("group_tags", [True, False], ids=["group-tags", "no-tag-rules"])
def test_a_stranger_moving_onto_a_subscribers_address_does_not_rename_their_member(
        shop, shopper_user, shopper_client, configuration, mailchimp_account, group_tags):  # noqa: F811
    """Ann has an account with her address, consents, and is subscribed as FNAME "Ann". A shopper who does not
    consent types Ann's address into their own account on Shuup's *Customer Information* page (Shuup checks
    nothing). The shop left the status of Ann's member alone, but the move wrote the stranger's names onto it: Ann's
    next newsletter greeted her as "Tess" (the newsletter block, for the same situation, leaves an existing member's
    names alone: "the block's are a stranger's"). Nor are the stranger's language, groups or tags written onto
    Ann's member. The stranger's account was never sent (no consent, and the shop sends only people who consented):
    typing Ann's address is its first send; without tag rules, review aud9's probe as written, which the first fix
    (with tag rules) still failed."""
    from shuup.testing.factories import create_random_contact_group

    from tests.helpers import new_person

    emulator, api_key, list_id = mailchimp_account
    ann = new_person(permission=True, email="ann.subscriber@fastmail.com", first_name="Ann", last_name="Original")
    person = get_person_contact(shopper_user)
    if group_tags:
        group = create_random_contact_group(shop=shop)
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(tag_group_ids=[group.pk])
        group.members.add(person)  # the stranger's group tag is theirs, not Ann's
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["FNAME"] == "Ann"
    language = emulator.get_member(api_key, list_id, ann.email)["language"]

    customer_information_post(shopper_client, email=ann.email)  # Tess Tester, box unticked
    send_due(rounds=3)
    assert Contact.objects.get(pk=person.pk).email == ann.email
    member = emulator.get_member(api_key, list_id, ann.email)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Ann", "Original"), (
        "Ann's member renamed by a stranger's account edit: %r" % member["merge_fields"])
    assert member["language"] == language
    assert [tag["name"] for tag in member["tags"]] == []


# Found by independent review aud11 (issue 19): the contact owns the member of its address or writes nothing there.
@pytest.mark.usefixtures("commits")
def test_a_strangers_account_left_off_a_subscribers_member_renames_it_at_its_next_edit(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):  # noqa: F811
    """The team's fixed case (review aud9): a shopper without consent types Ann's address into their account; the
    move leaves Ann's member's names alone. The stranger then edits their own name on the *Customer Information*
    page (still Ann's address, box unticked): that send writes the stranger's names onto Ann's member. The
    protection (member_data_left_out) holds only for the send that arrived; every later change of the stranger's
    contact is written over the subscriber's member."""
    emulator, api_key, list_id = mailchimp_account
    ann = new_person(permission=True, email="ann.keeps.name@fastmail.com", first_name="Ann", last_name="Original")
    send_due(rounds=3)
    customer_information_post(shopper_client, email=ann.email)  # Tess Tester, box unticked
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["FNAME"] == "Ann"

    from shuup.utils.django_compat import reverse
    page = reverse("shuup:customer_edit")
    assert shopper_client.get(page).status_code == 200
    data = {"csrfmiddlewaretoken": shopper_client.cookies["csrftoken"].value}
    for prefix in ("billing", "shipping"):
        data.update({"%s-name" % prefix: "Tess Tester", "%s-street" % prefix: "Main Street 1",
                     "%s-city" % prefix: "Turku", "%s-postal_code" % prefix: "20100", "%s-country" % prefix: "FI"})
    data.update({"contact-first_name": "Mallory", "contact-last_name": "Renamed", "contact-language": "en",
                 "contact-gender": "u", "contact-email": ann.email})
    assert shopper_client.post(page, data).status_code == 302
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, ann.email)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Ann", "Original"), (
        "Ann's member renamed by the stranger's later edit: %r" % member["merge_fields"])


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("double_opt_in", [False, True], ids=["single", "double"])
def test_a_consenting_stranger_moving_onto_a_subscribers_address_renames_their_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, double_opt_in):  # noqa: F811
    """Ann is subscribed (FNAME "Ann", her own account). Tess, subscribed under her own address, types Ann's address
    into her account on Shuup's *Customer Information* page and keeps the box ticked. The move finds a member there
    (member exists), archives Tess's old member and then PUTs Tess's names, language and groups onto Ann's member:
    Ann's newsletter greets her as "Tess". The no-consent arrival leaves the member's data alone; the consenting one
    does not (contact.py ContactPlan.run, the member_exists branch of the move)."""
    from shoop_mailchimp.models import MailchimpConfiguration

    emulator, api_key, list_id = mailchimp_account
    ann = new_person(permission=True, email="ann.target@fastmail.com", first_name="Ann", last_name="Original")
    tess_user = django_user_model.objects.create_user("tess", "tess.own@fastmail.com", "pw")
    tess = get_person_contact(tess_user)
    tess.add_to_shop(shop)
    shop_consent.record_proof(tess.pk, tess_user.email)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tess_user)
    choose(browser, subscribe=True)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, "tess.own@fastmail.com")["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["FNAME"] == "Ann"
    if double_opt_in:
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)

    customer_information_post(browser, email=ann.email, marketing_permission="on")
    send_due(rounds=3)
    assert Contact.objects.get(pk=tess.pk).email == ann.email
    member = emulator.get_member(api_key, list_id, ann.email)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Ann", "Original"), (
        "Ann's member renamed by a stranger's move: %r" % member["merge_fields"])
