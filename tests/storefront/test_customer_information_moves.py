"""A shopper moving their account to another address on Shuup's *Customer Information* page: what the move does to
the member they leave and to the member they arrive at (consent, status, names)."""
import pytest
from django.test import Client
from shuup.core.models import Contact, PersonContact, get_person_contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import ConsentRequest, MailchimpConfiguration, SyncKind, SyncState
from shoop_mailchimp.storefront import subscriptions
from tests.helpers import new_person, send_due
from tests.storefront.helpers import choose, customer_information_post, logged_in_account, presses_on_account_page

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
    browser = presses_on_account_page(tess_user, subscribe=True)
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


def tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model, username, own,
                                        confirmed=True):
    """Tess proved ``own`` hers (activation) and pressed *Subscribe* on her account page; ``confirmed``: before the
    shop turned double opt-in on (subscribed), else after it (pending: a link mailed to ``own``, not clicked).
    Returns her contact and her logged-in browser."""
    emulator, api_key, list_id = mailchimp_account
    tess, browser = logged_in_account(shop, django_user_model, username, own, proven=True)
    if not confirmed:
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)
    choose(browser, subscribe=True)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == ("subscribed" if confirmed else "pending")
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)
    return tess, browser


# Found by independent review aud11 (issue 19).
@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_typo_corrected_back_to_the_proven_address_keeps_the_subscription(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Tess proved her address and is subscribed; the shop runs double opt-in. She types a wrong address into her
    account (a typo: its owner is asked to confirm, the member pending there), notices, and corrects it back to her
    own proven address. Her subscription is as it was (subscribed at the address she proved); it stayed pending,
    no link mailed there (only the typo got one), and the account page said "awaiting confirmation" for ever."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "tess.proven@fastmail.com", "tess.provem@fastmail.com"
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess3", own)

    customer_information_post(browser, email=typo, marketing_permission="on")
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, typo)["status"] == "pending"
    customer_information_post(browser, email=own, marketing_permission="on")
    send_due(rounds=3)
    tess = Contact.objects.get(pk=tess.pk)
    member = emulator.get_member(api_key, list_id, own)
    mailed = [item["email_address"] for item in emulator.confirmations(api_key)]
    assert (member and member["status"], subscriptions.newsletter_status(shop, tess)) == (
        "subscribed", subscriptions.SUBSCRIBED), (member and member["status"], subscriptions.newsletter_status(
            shop, tess), "links mailed to %s" % mailed)
    assert emulator.get_member(api_key, list_id, typo) is None, "the typo's member still claims Tess"
    assert mailed == [typo]
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=tess.pk)
    assert (row.consent_request, row.subscription_moved_from) == ("", "")


@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_second_typo_corrected_back_still_keeps_the_subscription(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """As above with two typos in a row before the correction: the member moved from typo to typo (pending, a
    link mailed to each) comes back subscribed to the address its owner proved."""
    emulator, api_key, list_id = mailchimp_account
    own = "tess.twice@fastmail.com"
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess4", own)
    for typo in ("tess.twise@fastmail.com", "tess.twixe@fastmail.com", own):
        customer_information_post(browser, email=typo, marketing_permission="on")
        send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member["status"] == "subscribed"
    assert subscriptions.newsletter_status(shop, Contact.objects.get(pk=tess.pk)) == subscriptions.SUBSCRIBED


@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_pending_subscription_moved_back_to_the_proven_address_mails_its_link_there(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Tess subscribed under double opt-in and has not confirmed yet (pending: a link mailed to her proven
    address). A typo and its correction must not subscribe her without confirming; the member moved back stays
    pending, and a link is mailed again to her address (the last one went to the typo), so the page's "awaiting
    confirmation" is true."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "tess.unconfirmed@fastmail.com", "tess.unconfirmes@fastmail.com"
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess5", own, confirmed=False)
    for address in (typo, own):
        customer_information_post(browser, email=address, marketing_permission="on")
        send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "pending"
    assert [item["email_address"] for item in emulator.confirmations(api_key)] == [own, typo, own]
    assert subscriptions.newsletter_status(shop, Contact.objects.get(pk=tess.pk)) == (
        subscriptions.AWAITING_CONFIRMATION)


@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_consent_given_again_after_the_typo_is_confirmed_anew(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Tess (subscribed) moves to a typo, withdraws there and consents again: that consent is new, and a move back
    to her proven address does not subscribe it without a confirmation (a link mailed there)."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "tess.again@fastmail.com", "tess.agian@fastmail.com"
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess6", own)
    for address, box in ((typo, "on"), (typo, ""), (typo, "on"), (own, "on")):
        customer_information_post(browser, email=address, **({"marketing_permission": box} if box else {}))
        send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "pending"
    assert [item["email_address"] for item in emulator.confirmations(api_key)][-1] == own
    assert subscriptions.newsletter_status(shop, Contact.objects.get(pk=tess.pk)) == (
        subscriptions.AWAITING_CONFIRMATION)


# Found by independent review aud12 (issue 19): a contact moves (renames) only a member it owns.
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("pressed_subscribe", [True, False], ids=["after-subscribe", "never-consented"])
def test_a_strangers_account_changing_its_address_leaves_the_form_subscribers_member_where_it_is(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, pressed_subscribe):
    """Ann subscribed on Mailchimp's own form (the shop has no contact of her). Mallory registers an account with
    Ann's address (nothing proves it hers), optionally presses *Subscribe* on the account page (her consent reaches
    Ann's subscribed member), then changes her account's e-mail to her own address. The move PATCHed the member of
    the old address to the new one: Ann's member, its subscription and history, was renamed to Mallory's mailbox.
    A contact moves only a member it owns (``SyncState.foreign_member``); Mallory's never was: it stays where it
    is, and Mallory's new address is a member of its own (subscribed only by her consent)."""
    emulator, api_key, list_id = mailchimp_account
    email, own = "ann.formmove@fastmail.com", "mallory.own@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed")
    user = django_user_model.objects.create_user("mallorymove", email, "pw")
    mallory = get_person_contact(user)
    mallory.add_to_shop(shop)
    send_due(rounds=2)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    if pressed_subscribe:
        choose(browser, subscribe=True)
        send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    mallory = PersonContact.objects.get(pk=mallory.pk)
    mallory.email = own
    mallory.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", (
        "a stranger's account moving away took a subscriber of Mailchimp's own form out of the audience: %r; the "
        "member at the stranger's new address: %r" % (member, emulator.get_member(api_key, list_id, own)))
    moved = emulator.get_member(api_key, list_id, own)
    assert moved is not None and moved["status"] == ("subscribed" if pressed_subscribe else "transactional"), (
        moved and moved["status"])
    assert SyncState.objects.get(kind=SyncKind.CONTACT, object_id=mallory.pk).foreign_member is False


# Found by independent review aud12 (issue 19): an unproven account's withdrawal ends only a subscription it made.
@pytest.mark.usefixtures("commits")
def test_an_account_moved_onto_a_form_subscribers_address_cannot_unsubscribe_her(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Mallory's account (activated: her own address proven) subscribed at her own address (her consent made that
    subscription: row opt_in). She then types Ann's address into her account (Ann subscribed on Mailchimp's own
    form; nothing proves the address Mallory's) and presses *Unsubscribe*. ``withdrawal_own_only`` read the row's
    opt_in, the consent sent for Mallory's old address, not for Ann's member: the press was taken as the end of a
    subscription Mallory's consent made, and Ann was unsubscribed. The member is not Mallory's
    (``SyncState.foreign_member``): her press withdraws her own consent only."""
    emulator, api_key, list_id = mailchimp_account
    ann, own = "ann.formtarget@fastmail.com", "mallory.first@fastmail.com"
    emulator.add_members(api_key, list_id, [ann], status="subscribed")
    mallory, browser = logged_in_account(shop, django_user_model, "mallorymove2", own, proven=True)
    choose(browser, subscribe=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed"
    mallory = PersonContact.objects.get(pk=mallory.pk)
    mallory.email = ann
    mallory.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, ann)
    assert member is not None and member["status"] == "subscribed", member
    choose(browser, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, ann)["status"] == "subscribed", (
        "an account moved onto a form subscriber's address unsubscribed her with its Unsubscribe")
    assert PersonContact.objects.get(pk=mallory.pk).marketing_permission is False
