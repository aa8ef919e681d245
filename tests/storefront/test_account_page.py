"""The shopper's own subscription in the customer account: see it, withdraw it (Mailchimp then unsubscribes
the member), give it again."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from shuup.core.models import Contact, PersonContact, get_person_contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import MailchimpLogEntry, SyncKind, SyncState
from shoop_mailchimp.storefront import views
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import logged_message, new_person, send_due
from tests.storefront.helpers import (
    account_url,
    choose,
    customer_information_post,
    logged_in_account,
    page_messages,
    presses_on_account_page,
    registered_account,
    signup_url,
)
from tests.webhooks.helpers import post_event


def status_on_page(client):
    page = client.get(account_url())
    assert page.status_code == 200
    html = page.content.decode()
    return html.split('id="shoop-mailchimp-account-newsletter" data-status="')[1].split('"')[0], html


@pytest.mark.django_db
def test_the_account_menu_links_the_newsletter_page(shopper_client):
    assert 'href="%s"' % account_url() in shopper_client.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_the_page_needs_a_login(shop, newsletter_block):
    response = Client().get(account_url())
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_subscribing_and_unsubscribing_change_consent_and_say_so_escaped(shop, shopper_user, shopper_client,
                                                                        configuration):
    person = get_person_contact(shopper_user)
    shop_consent.record_proof(person.pk, shopper_user.email)  # activated through the link mailed to the address
    status, html = status_on_page(shopper_client)
    assert status == "not_subscribed"

    response = choose(shopper_client, subscribe=True)
    person.refresh_from_db()
    assert person.marketing_permission is True
    assert page_messages(response) == [str(views.SUBSCRIBED)]
    status, html = status_on_page(shopper_client)
    assert status == "subscribed"
    assert "o&#39;brien&amp;co@fastmail.com" in html and "o'brien&co@" not in html

    choose(shopper_client, subscribe=False)
    person.refresh_from_db()
    assert person.marketing_permission is False
    assert status_on_page(shopper_client)[0] == "not_subscribed"


@pytest.mark.django_db
def test_unsubscribing_withdraws_the_consent_of_every_contact_with_that_address(shop, shopper_user, shopper_client):
    """A shopper who proved the address theirs (review aud11: an unproven account's press withdraws its own consent
    only, see test_a_strangers_unproven_account_cannot_unsubscribe_a_subscriber_of_mailchimps_own_form)."""
    shop_consent.record_proof(get_person_contact(shopper_user).pk, shopper_user.email)
    same_address = new_person(email="O'Brien&co@fastmail.com")
    choose(shopper_client, subscribe=False)
    same_address.refresh_from_db()
    assert same_address.marketing_permission is False
    withdrawals = MailchimpLogEntry.objects.filter(action="storefront.unsubscribe")
    # The shopper had not consented: only the other contact had a consent to withdraw.
    assert list(withdrawals.values_list("contact_id", flat=True)) == [same_address.pk]


@pytest.mark.django_db
def test_the_post_needs_the_csrf_token(shop, shopper_user, shopper_client):
    shopper_client.get(account_url())
    response = shopper_client.post(account_url(), {"subscribe": "1"})
    assert response.status_code == 403
    assert get_person_contact(shopper_user).marketing_permission is False


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_the_account_page_follows_mailchimp_and_an_unsubscribe_reaches_it(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    configuration.double_opt_in = True
    configuration.save()
    email = shopper_user.email

    response = choose(shopper_client, subscribe=True)
    assert page_messages(response) == [str(views.CHECK_YOUR_INBOX)]
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    assert status_on_page(shopper_client)[0] == "awaiting_confirmation"

    # The shopper clicks the link in Mailchimp's e-mail; Mailchimp tells the shop.
    emulator.set_member_status(api_key, list_id, email, "subscribed")
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    assert status_on_page(shopper_client)[0] == "subscribed"

    choose(shopper_client, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert status_on_page(shopper_client)[0] == "not_subscribed"


@pytest.mark.django_db
def test_nothing_changes_without_a_choice(shop, shopper_user, shopper_client):
    shopper_client.get(account_url())
    token = shopper_client.cookies["csrftoken"].value
    shopper_client.post(account_url(), {"csrfmiddlewaretoken": token})
    assert get_person_contact(shopper_user).marketing_permission is False


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_shopper_subscribed_on_another_form_sees_it_and_can_unsubscribe(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """The shop holds no consent, but Mailchimp mails them (they used Mailchimp's own sign-up form): the page
    says so, and its Unsubscribe reaches Mailchimp although the shop's consent was never on. The shopper proved the
    address theirs (review aud11: an unproven account's Unsubscribe does not end a subscription someone else made,
    see test_a_strangers_unproven_account_cannot_unsubscribe_a_subscriber_of_mailchimps_own_form)."""
    emulator, api_key, list_id = mailchimp_account
    email = shopper_user.email
    person = get_person_contact(shopper_user)
    shop_consent.record_proof(person.pk, email)
    person.save()
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    emulator.set_member_status(api_key, list_id, email, "subscribed")
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200

    status, html = status_on_page(shopper_client)
    assert status == "subscribed_elsewhere"
    assert "you subscribed outside your account here" in html.replace("&#39;", "'")

    choose(shopper_client, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert status_on_page(shopper_client)[0] == "not_subscribed"
    assert get_person_contact(shopper_user).marketing_permission is False


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_subscribing_with_an_address_another_contact_has_asks_its_owner_to_confirm(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """Shuup lets a shopper type any address into their account: consent given for an address another contact
    of the shop has proves nothing, so Mailchimp mails its owner a link; the other contact's consent stays."""
    emulator, api_key, list_id = mailchimp_account
    owner = new_person(permission=False, email=shopper_user.email)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "transactional"

    choose(shopper_client, subscribe=True)

    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "pending"
    owner.refresh_from_db()
    assert owner.marketing_permission is False


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_unsubscribing_does_not_claim_the_other_contacts_choice(shop, shopper_user, shopper_client, configuration,
                                                                  mailchimp_account):
    shop_consent.record_proof(get_person_contact(shopper_user).pk, shopper_user.email)  # see review aud11 above
    other = new_person(permission=True, email=shopper_user.email)
    choose(shopper_client, subscribe=False)
    other.refresh_from_db()
    assert other.marketing_permission is False
    assert "who has the same address" in logged_message("storefront.unsubscribe", other)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_company_sharing_its_members_address_does_not_make_the_member_confirm(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """A one-person business: the company contact carries its member's own address. The member's consent is
    their own, given while logged in, not an address typed by a stranger (found by review). The member proved the
    address theirs (their account was activated through the link mailed to it)."""
    from shuup.core.models import CompanyContact
    emulator, api_key, list_id = mailchimp_account
    shop_consent.record_proof(get_person_contact(shopper_user).pk, shopper_user.email)
    company = CompanyContact.objects.create(name="O'Brien & Co", email=shopper_user.email)
    company.members.add(get_person_contact(shopper_user))
    company.add_to_shop(shop)

    choose(shopper_client, subscribe=True)

    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    assert emulator.confirmations(api_key) == []


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_address_that_bounces_is_told_so_not_to_wait_for_a_link(shop, shopper_user, shopper_client, configuration,
                                                                  mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    choose(shopper_client, subscribe=True)
    emulator.set_member_status(api_key, list_id, shopper_user.email, "cleaned")
    assert post_event(Client(), configuration, "cleaned", email=shopper_user.email).status_code == 200
    status, html = status_on_page(shopper_client)
    assert status == "undeliverable"
    assert "bounce" in html and "o&#39;brien&amp;co@fastmail.com" in html
    assert 'value="0"' in html and 'name="subscribe" value="1"' not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_customer_a_stranger_signed_up_is_told_a_link_was_mailed_not_that_they_subscribed_elsewhere(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """A pending member is mailed no newsletter, and the customer subscribed nowhere: the page says a link to
    confirm was mailed and offers Subscribe, not "Keep me subscribed"."""
    emulator, api_key, list_id = mailchimp_account
    person = get_person_contact(shopper_user)
    person.save()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"

    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/")
    stranger.post(signup_url(), {"email": person.email, "next": "/",
                                 "csrfmiddlewaretoken": stranger.cookies["csrftoken"].value})
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "pending"

    status, html = status_on_page(shopper_client)
    assert status == "confirmation_mailed"
    assert "you subscribed outside your account" not in html and "Keep me subscribed" not in html
    assert "You are not subscribed to our newsletter." in html and 'name="subscribe" value="1"' in html


@pytest.mark.django_db
def test_a_disconnected_shop_does_not_claim_it_mailed_a_confirmation_link(shop, shopper_user, shopper_client,
                                                                          configuration):
    configuration.double_opt_in = True
    configuration.disconnected_on = timezone.now()
    configuration.save()

    response = choose(shopper_client, True)

    assert page_messages(response) == [str(views.RECORDED)]
    assert MailchimpLogEntry.objects.filter(action="storefront.subscribe").exists()
    html = response.content.decode()
    assert "a link to confirm your subscription" not in html, "nothing was e-mailed: the shop sends nothing"
    status, html = status_on_page(shopper_client)
    assert status == "recorded" and "we will e-mail" in html


@pytest.mark.django_db
def test_an_unsubscribe_while_disconnected_is_told_as_recorded_not_as_done(shop, shopper_user, shopper_client,
                                                                           configuration, mailchimp_account):
    """The disconnect keeps the audience, which still mails the member until the shop sends again."""
    emulator, api_key, list_id = mailchimp_account
    choose(shopper_client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    configuration.disconnected_on = timezone.now()
    configuration.save()

    response = choose(shopper_client, subscribe=False)
    drain()

    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"  # nothing is sent
    assert page_messages(response) == [str(views.UNSUBSCRIBE_RECORDED)]
    status, html = status_on_page(shopper_client)
    assert status == "unsubscribe_recorded"
    assert "You are not subscribed to our newsletter." not in html and 'name="subscribe" value="1"' in html

    configuration.disconnected_on = None
    configuration.save()
    drain()
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "unsubscribed"
    assert status_on_page(shopper_client)[0] == "not_subscribed"


@pytest.mark.django_db
def test_a_single_opt_in_subscription_while_disconnected_is_not_shown_as_done(shop, shopper_user, shopper_client,
                                                                              configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    configuration.disconnected_on = timezone.now()
    configuration.save()

    choose(shopper_client, subscribe=True)
    drain()

    assert emulator.get_member(api_key, list_id, shopper_user.email) is None  # nothing was sent
    status, html = status_on_page(shopper_client)
    assert status == "recorded" and "You are subscribed to our newsletter" not in html

    configuration.disconnected_on = None
    configuration.save()
    drain()
    assert status_on_page(shopper_client)[0] == "subscribed"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_lapsed_confirmation_link_is_told_and_a_later_signup_mails_a_fresh_one(
        shop, shopper_user, shopper_client, configuration, mailchimp_account, settings):
    emulator, api_key, list_id = mailchimp_account
    configuration.double_opt_in = True
    configuration.save()
    person = get_person_contact(shopper_user)
    choose(shopper_client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "pending"
    assert len(emulator.confirmations(api_key)) == 1
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=person.pk)
    assert row.confirmation_sent_at is not None
    assert status_on_page(shopper_client)[0] == "awaiting_confirmation"
    choose(shopper_client, subscribe=True)  # pressed again while the link is fresh: no second e-mail
    drain()
    assert len(emulator.confirmations(api_key)) == 1

    # CONFIRMATION_LIFETIME later the link was never clicked.
    lifetime = timedelta(seconds=settings.SHOOP_MAILCHIMP.get("CONFIRMATION_LIFETIME", 60 * 24 * 3600))
    SyncState.objects.filter(pk=row.pk).update(confirmation_sent_at=timezone.now() - lifetime - timedelta(hours=1),
                                               consent_requested_at=timezone.now() - lifetime - timedelta(hours=1))
    status, html = status_on_page(shopper_client)
    assert status == "confirmation_lapsed"
    assert "has lapsed" in html and 'name="subscribe" value="1"' in html
    person = get_person_contact(shopper_user)
    person.last_name = "Renamed"  # an unrelated send mails nothing
    person.save()
    drain()
    assert len(emulator.confirmations(api_key)) == 1

    choose(shopper_client, subscribe=True)
    drain()
    assert len(emulator.confirmations(api_key)) == 2, "a fresh link"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "pending"
    assert status_on_page(shopper_client)[0] == "awaiting_confirmation"


@pytest.mark.django_db
def test_an_account_without_an_email_address_is_told_so_and_records_nothing(shop, newsletter_block,
                                                                           django_user_model):
    user = django_user_model.objects.create_user("no.mail", "", "pw")
    person = get_person_contact(user)
    person.add_to_shop(shop)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    status, html = status_on_page(client)
    assert status == "no_address"
    assert "has no e-mail address" in html and 'name="subscribe" value="1"' not in html
    response = choose(client, subscribe=True)  # a page loaded before the address was removed
    assert page_messages(response) == [str(views.NO_ADDRESS)]
    assert get_person_contact(user).marketing_permission is False


@pytest.mark.django_db
def test_subscribe_on_the_account_page_is_rate_limited_per_address_with_the_block(shop, shopper_user, shopper_client,
                                                                                  settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, SIGNUP_LIMIT_PER_ADDRESS=(2, 3600))
    person = get_person_contact(shopper_user)
    front = Client(enforce_csrf_checks=True)
    front.get("/")
    front.post(signup_url(), {"email": shopper_user.email, "next": "/",
                              "csrfmiddlewaretoken": front.cookies["csrftoken"].value})  # the block: one attempt
    Contact.objects.filter(pk=person.pk).update(marketing_permission=False)
    assert page_messages(choose(shopper_client, subscribe=True)) != [str(views.TOO_MANY_ATTEMPTS)]
    choose(shopper_client, subscribe=False)
    refused = choose(shopper_client, subscribe=True)
    assert page_messages(refused) == [str(views.TOO_MANY_ATTEMPTS)]
    assert get_person_contact(shopper_user).marketing_permission is False, "recorded anyway"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_consenting_shopper_whose_member_a_marketer_archived_is_told_and_can_subscribe_again(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = get_person_contact(shopper_user)
    choose(shopper_client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="archived")
    assert post_event(Client(), configuration, "unsubscribe", email=person.email, action="delete").status_code == 200

    status, html = status_on_page(shopper_client)
    assert status == "archived" and 'name="subscribe" value="1"' in html
    choose(shopper_client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert status_on_page(shopper_client)[0] == "subscribed"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_subscribing_on_the_account_page_under_double_opt_in_keeps_a_member_subscribed_elsewhere_subscribed(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """Mailchimp mails the shopper already (its own form): the shop's double opt-in must not put the member back
    to pending (no newsletter until they click a link) when they press Subscribe on the account page, as the
    newsletter block and the registration box do not (review aud)."""
    emulator, api_key, list_id = mailchimp_account
    configuration.double_opt_in = True
    configuration.save()
    person = get_person_contact(shopper_user)
    person.save()
    drain()
    emulator.set_member_status(api_key, list_id, shopper_user.email, "subscribed")
    assert post_event(Client(), configuration, "subscribe", email=shopper_user.email).status_code == 200
    choose(shopper_client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    assert get_person_contact(shopper_user).marketing_permission is True
    assert status_on_page(shopper_client)[0] == "subscribed"
    # The consent was sent: withdrawing it in the admin (no request of the shopper's) unsubscribes the member.
    person = get_person_contact(shopper_user)
    person.marketing_permission = False
    person.save()
    drain()
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "unsubscribed"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_subscribing_again_under_double_opt_in_after_an_unsubscribe_the_shop_missed_asks_a_confirmation(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """The shop believes the member subscribed, but they unsubscribed in Mailchimp and the webhook was lost: the
    consent sent as "subscribed" is refused, and the member is asked to confirm (pending)."""
    emulator, api_key, list_id = mailchimp_account
    configuration.double_opt_in = True
    configuration.save()
    get_person_contact(shopper_user).save()
    drain()
    emulator.set_member_status(api_key, list_id, shopper_user.email, "subscribed")
    assert post_event(Client(), configuration, "subscribe", email=shopper_user.email).status_code == 200
    emulator.set_member_status(api_key, list_id, shopper_user.email, "unsubscribed")  # its webhook never comes
    choose(shopper_client, subscribe=True)
    drain()
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "pending"


# Held under review (a probe of independent review aud): an account page POST without the CSRF token is refused and
# records nothing.
@pytest.mark.django_db
def test_the_account_page_post_needs_the_csrf_token(shop, shopper_user, shopper_client, configuration):
    response = shopper_client.post(account_url(), {"subscribe": "1"})
    assert response.status_code == 403
    assert get_person_contact(shopper_user).marketing_permission is False


@pytest.mark.django_db
def test_the_account_page_does_not_claim_a_subscription_where_the_shop_has_no_newsletter(shop, newsletter_block):
    """A shop that never set up Mailchimp: a customer who once ticked Shuup's checkout marketing box reads that
    their subscription is recorded, not that they are subscribed to a newsletter nothing sends (review aud)."""
    from django.contrib.auth import get_user_model

    from shoop_mailchimp.models import MailchimpConfiguration

    assert not MailchimpConfiguration.objects.exists()
    user = get_user_model().objects.create_user("reader", "reader@fastmail.com", "A-long-pass-1")
    person = Contact.objects.get(pk=get_person_contact(user).pk)
    person.marketing_permission = True
    person.save()
    person.add_to_shop(shop)
    client = Client()
    client.force_login(user)
    status, html = status_on_page(client)
    assert "You are subscribed" not in html and status == "recorded"


# Found by independent review aud5 (issue 19): an address typed into the account proves nothing.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_account_moved_to_a_guest_buyers_address_does_not_subscribe_it_without_confirmation(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """Single opt-in, Shuup's default activation. An activated shopper changes their account's e-mail (Shuup's
    customer information page accepts any address, unverified) to the address of a guest buyer Mailchimp holds as
    ``transactional``, then presses Subscribe on the newsletter page: the buyer is asked to confirm (pending), as
    when the address is typed into the newsletter block (SIGNUP) or another shop contact has it (CONFIRM)."""
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    assert not configuration.double_opt_in
    victim = "only.bought@fastmail.com"
    emulator.add_members(api_key, list_id, [victim], status="transactional")
    person = get_person_contact(shopper_user)
    shop_consent.record_proof(person.pk, shopper_user.email)  # activated through the link mailed to its first address
    person.save()
    drain()
    person.email = victim  # Shuup's customer information form
    person.save()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, victim)["status"] == "transactional"

    response = choose(shopper_client, subscribe=True)
    assert page_messages(response) == [str(views.SUBSCRIBED_BY_ADDRESS)]
    assert status_on_page(shopper_client)[0] == "awaiting_confirmation"
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, victim)["status"] == "pending"
    assert status_on_page(shopper_client)[0] == "awaiting_confirmation"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_guest_buyer_who_registers_and_activates_subscribes_on_the_account_page_without_confirming(
        shop, newsletter_block, configuration, mailchimp_account):
    """The other side of the rule above: a guest buyer Mailchimp holds as ``transactional`` registers with their
    own address and activates the account through the link mailed to it (Shuup's default): the address is proven
    theirs, and Subscribe on the account page subscribes them (single opt-in), whatever the case they type it in."""
    from tests.helpers import make_all_due
    from tests.storefront.test_registration import register

    emulator, api_key, list_id = mailchimp_account
    assert not configuration.double_opt_in
    emulator.add_members(api_key, list_id, ["bought.before@fastmail.com"], status="transactional")
    person = register(Client(), "bought.before", ticked=False, email="bought.before@fastmail.com")
    assert person.user.is_active
    person.email = "Bought.Before@fastmail.com"
    person.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(person.user)
    choose(client, subscribe=True)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, "bought.before@fastmail.com")["status"] == "subscribed"
    assert emulator.confirmations(api_key) == []


# Fourth review of issue 19 (aud6): spellings of one mailbox outside the newsletter block's own look-up.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_unsubscribing_on_the_account_page_withdraws_every_spelling_of_the_address(shop, configuration):
    """withdraw_consent promises that every contact of the shop with the same address stops consenting. A second
    contact with the Unicode spelling of the shopper's punycode address (one Mailchimp member) kept consenting:
    the shop still claimed a consent the person withdrew (a move to another audience would subscribe it there)."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.storefront import subscriptions

    me = new_person(permission=True, email="vera@xn--bcher-kva.de")
    other = new_person(permission=True, email="vera@bücher.de")
    same = new_person(permission=True, email="VERA@xn--bcher-kva.de")
    subscriptions.withdraw_consent(shop, me)
    assert PersonContact.objects.get(pk=same.pk).marketing_permission is False
    assert PersonContact.objects.get(pk=other.pk).marketing_permission is False, (
        "the Unicode spelling of the same mailbox still consents after the withdrawal")


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("other_email", ["VERA@xn--bcher-kva.de", "vera@bücher.de"])
def test_a_consent_for_an_address_another_contact_has_in_another_spelling_is_a_confirmation(
        shop, configuration, other_email):
    """An address another contact of the shop has proves nothing: its owner confirms by e-mail, whether the other
    contact has it in another letter case or in the Unicode spelling of the same mailbox."""
    from tests.helpers import row_of

    new_person(permission=False, email=other_email)
    me = new_person(permission=False, email="vera@xn--bcher-kva.de")
    me.marketing_permission = True
    me.save()
    assert row_of(me).consent_request == "confirm", row_of(me).consent_request


# Fourth review of issue 19 (aud6): a proof beats "another contact has the address".
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_proven_shopper_is_not_asked_to_confirm_because_a_strangers_block_contact_has_their_address(
        shop, configuration, mailchimp_account):
    """A guest bought as an address; a stranger typed it into the block (a nameless contact without consent, a
    confirmation link mailed: pending). The buyer later makes an account with that address, proves it (activated
    through the mailed link) and presses Subscribe on the account page, single opt-in. Their proven consent is sent
    as given (subscribed); the stranger's contact made it a confirmation request (CONFIRM) and the member stayed
    pending: the proven owner had to dig out the stranger-triggered link."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.storefront import subscriptions
    from tests.helpers import make_all_due
    from tests.sync.test_guest_orders import guest_order

    emulator, api_key, list_id = mailchimp_account
    email = "proven.owner@fastmail.com"
    guest_order(shop, email)
    drain()
    subscriptions.subscribe_address(shop, email)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    owner = new_person(permission=False, email=email)
    owner.add_to_shop(shop)
    shop_consent.record_proof(owner.pk, email)
    make_all_due()
    drain()
    subscriptions.subscribe_person(shop, PersonContact.objects.get(pk=owner.pk), subscriptions.ACCOUNT_PAGE)
    make_all_due()
    drain()
    member_status = emulator.get_member(api_key, list_id, email)["status"]
    page = subscriptions.newsletter_status(shop, PersonContact.objects.get(pk=owner.pk))
    assert (member_status, page) == ("subscribed", subscriptions.SUBSCRIBED), (member_status, page)


# Fourth review of issue 19 (aud6): Shuup's Customer Information page gave consent as the staff's.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("proven", [False, True])
def test_the_customer_information_pages_box_is_the_shoppers_storefront_consent(
        shop, shopper_user, shopper_client, configuration, mailchimp_account, proven):
    """A guest bought as an address (Mailchimp holds a ``transactional`` member); someone registered an account with
    it where nothing proved it theirs (no activation), and ticks the marketing box on Shuup's own *Customer
    Information* page. That save named no shop, so its consent was taken for the shop owner's and subscribed the
    buyer's member outright. It is the shopper's consent given in this shop's storefront, as on the account page:
    the member is asked to confirm (``pending``); for an address the shopper proved theirs, subscribed."""
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    assert not configuration.double_opt_in
    victim = shopper_user.email
    emulator.add_members(api_key, list_id, [victim], status="transactional")
    person = get_person_contact(shopper_user)
    if proven:
        shop_consent.record_proof(person.pk, victim)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, victim)["status"] == "transactional"

    customer_information_post(shopper_client, email=victim, marketing_permission="on")
    assert Contact.objects.get(pk=person.pk).marketing_permission is True
    send_due(rounds=2)
    if proven:
        assert emulator.get_member(api_key, list_id, victim)["status"] == "subscribed"
        assert emulator.confirmations(api_key) == []
    else:
        assert emulator.get_member(api_key, list_id, victim)["status"] == "pending"
        assert emulator.confirmations(api_key)[-1]["email_address"] == victim
    assert shop_consent.consents_in(shop.pk, Contact.objects.get(pk=person.pk))
    assert "shuup:customer_edit" in logged_message("storefront.subscribe", person)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("per_shop", [False, True], ids=["shared-contacts", "contacts-per-shop"])
def test_the_company_information_pages_box_is_the_shoppers_storefront_consent(
        shop, shopper_user, shopper_client, configuration, mailchimp_account, settings, per_shop):
    """The same on Shuup's *Company Information* page: a shopper whose address nobody proved registers a company there
    with a guest buyer's address and the marketing box ticked. The new company's consent is the shopper's, given in
    this shop's storefront: the buyer's member is asked to confirm (``pending``), not subscribed outright.

    Review aud9: where Shuup manages contacts per shop, Shuup saves the new company first and adds it to the shop
    after: the save found no shop of the company and made no consent request, and the shop-added signal queued a
    plain change; the held member stayed ``transactional`` while the shop held the company as consenting."""
    from shuup import configuration as shuup_configuration
    from shuup.core.models import CompanyContact
    from shuup.utils.django_compat import reverse


    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = per_shop
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = per_shop
    emulator, api_key, list_id = mailchimp_account
    assert not configuration.double_opt_in
    victim = "company.bought@fastmail.com"
    emulator.add_members(api_key, list_id, [victim], status="transactional")
    shuup_configuration.set(None, "allow_company_registration", True)
    url = reverse("shuup:company_edit")
    assert shopper_client.get(url).status_code == 200
    data = {"csrfmiddlewaretoken": shopper_client.cookies["csrftoken"].value, "contact-name": "Tess Trading",
            "contact-tax_number": "FI-1234567", "contact-email": victim, "contact-marketing_permission": "on"}
    for prefix in ("billing", "shipping"):
        data.update({"%s-name" % prefix: "Tess Trading", "%s-street" % prefix: "Main Street 1",
                     "%s-city" % prefix: "Turku", "%s-postal_code" % prefix: "20100", "%s-country" % prefix: "FI"})
    response = shopper_client.post(url, data)
    assert response.status_code == 302, {
        name: form.errors for name, form in response.context_data["form"].forms.items() if form.errors}
    company = CompanyContact.objects.get(email=victim)
    assert company.marketing_permission is True and company.shops.filter(pk=shop.pk).exists()
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, victim)["status"] == "pending"
    assert emulator.confirmations(api_key)[-1]["email_address"] == victim


def proven_subscriber(shop, django_user_model, mailchimp_account, username, email):
    """Ann: an account of the shop whose owner proved ``email`` (an activation link) and subscribed on her account
    page, sent: ``(her contact, her logged-in browser)``."""
    emulator, api_key, list_id = mailchimp_account
    ann, ann_browser = logged_in_account(shop, django_user_model, username, email, proven=True)
    choose(ann_browser, subscribe=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    return ann, ann_browser


# Review aud9: a stranger's account registered with a proven subscriber's address.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_strangers_unproven_account_cannot_unsubscribe_a_proven_subscriber(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Ann proved her address (activation link) and subscribed on her account page. A stranger registers an account
    with Ann's address (Shuup verifies nothing) and presses *Unsubscribe* on their own account page. The stranger's
    request unsubscribed the one member of the address and withdrew Ann's consent: anyone could end any subscriber's
    subscription, and the shop believed Ann withdrew. The stranger's own consent only is withdrawn; the page says
    so, and that every newsletter carries the address's unsubscribe link."""
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    email = "ann.proven@fastmail.com"
    ann, ann_browser = proven_subscriber(shop, django_user_model, mailchimp_account, "ann", email)

    mallory, stranger = logged_in_account(shop, django_user_model, "mallory", email)
    choose(stranger, subscribe=True)  # the stranger's consent too (asked to confirm: Ann's member stays subscribed)
    for _ in range(2):
        make_all_due()
        drain()
    assert Contact.objects.get(pk=mallory.pk).marketing_permission is True
    response = choose(stranger, subscribe=False)
    assert page_messages(response) == [str(views.UNSUBSCRIBED_ACCOUNT_ONLY)]
    for _ in range(3):
        make_all_due()
        drain()
    ann = Contact.objects.get(pk=ann.pk)
    assert (emulator.get_member(api_key, list_id, email)["status"], ann.marketing_permission) == ("subscribed", True)
    assert Contact.objects.get(pk=mallory.pk).marketing_permission is False
    assert status_on_page(ann_browser)[0] == "subscribed"
    # The stranger's page claims no subscription of theirs (nor one they made "outside the account").
    assert status_on_page(stranger)[0] == "not_subscribed"

    # Ann's own press still unsubscribes the address, and the stranger's contact learns it.
    choose(ann_browser, subscribe=False)
    for _ in range(2):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
    assert Contact.objects.get(pk=ann.pk).marketing_permission is False


# Review aud11: the guard above held on the account page's Unsubscribe only, and only where a shop contact proved the
# address.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_strangers_unproven_account_unticking_the_customer_information_box_unsubscribes_no_proven_subscriber(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Ann proved her address and is subscribed. Mallory registers an account with Ann's address and subscribes on
    her own account page (asked to confirm; Ann's member stays subscribed). Shuup's own *Customer Information* page
    saved with the marketing box unticked is the same withdrawal by the same unproven shopper as the account page's
    Unsubscribe: it unsubscribed Ann's member and withdrew Ann's consent. Mallory's own consent only is withdrawn."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.proven2@fastmail.com"
    ann, ann_browser = proven_subscriber(shop, django_user_model, mailchimp_account, "ann2", email)

    mallory, stranger = logged_in_account(shop, django_user_model, "mallory2", email)
    choose(stranger, subscribe=True)
    send_due(rounds=2)
    assert Contact.objects.get(pk=mallory.pk).marketing_permission is True
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"

    customer_information_post(stranger, email=email)  # the box unticked: Mallory withdraws
    send_due(rounds=3)
    assert Contact.objects.get(pk=mallory.pk).marketing_permission is False
    ann = Contact.objects.get(pk=ann.pk)
    assert (emulator.get_member(api_key, list_id, email)["status"], ann.marketing_permission) == (
        "subscribed", True), "an unproven stranger's Customer Information page unsubscribed Ann"
    assert "their own consent only" in logged_message("storefront.unsubscribe", mallory)
    assert status_on_page(stranger)[0] == "not_subscribed"
    assert status_on_page(ann_browser)[0] == "subscribed"


def unsubscribe_own_only(user, emulator, api_key, list_id, email):
    """``user`` presses *Unsubscribe* on their account page, told it ends their account's consent only; returns the
    status of the member of ``email`` once the shop has sent what it recorded."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert page_messages(choose(browser, subscribe=False)) == [str(views.UNSUBSCRIBED_ACCOUNT_ONLY)]
    send_due(rounds=3)
    return emulator.get_member(api_key, list_id, email)["status"]


# Found by independent review aud14 (issue 19): a consent does not make a member found at an unproven address its own.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("sent_by", ["its-save", "sync-existing"])
def test_a_strangers_account_carrying_a_consent_cannot_rename_or_unsubscribe_a_mailchimp_form_subscriber(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, sent_by):
    """Ann subscribed on Mailchimp's own form, as "Ann". Mallory's account was registered with Ann's address (Shuup
    verifies nothing) and carries a consent: the staff's, or one older than the integration that "Sync existing"
    sends. Its first send took Ann's member as the account's own: Mallory's names overwrote Ann's, Mallory's
    *Unsubscribe* on the account page ended Ann's subscription, and her change of address renamed Ann's member to
    Mallory's mailbox. Nothing proves the address Mallory's: Ann's member stays hers (the consent only asks for the
    status it gives, which Ann's member has)."""
    from shoop_mailchimp.sync import bulk
    emulator, api_key, list_id = mailchimp_account
    email, own = "ann.oldconsent.%s@fastmail.com" % sent_by, "mallory.oldconsent.%s@fastmail.com" % sent_by
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    mallory_user = django_user_model.objects.create_user("mallory14%s" % sent_by[:4], email, "pw")
    mallory = PersonContact.objects.create(user=mallory_user, email=email, first_name="Mallory",
                                           marketing_permission=True)
    mallory.add_to_shop(shop)
    if sent_by == "sync-existing":
        SyncState.objects.filter(kind=SyncKind.CONTACT, object_id=mallory.pk).delete()
        bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Ann")
    assert SyncState.objects.get(kind=SyncKind.CONTACT, object_id=mallory.pk).foreign_member is True
    assert unsubscribe_own_only(mallory_user, emulator, api_key, list_id, email) == "subscribed", (
        "a stranger's account with a consent unsubscribed a subscriber of Mailchimp's own form")
    mallory = PersonContact.objects.get(pk=mallory.pk)
    mallory.email = own
    mallory.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Ann"), (
        "a stranger's account moving away renamed a subscriber of Mailchimp's own form: %r" % member)
    assert emulator.get_member(api_key, list_id, own)["status"] == "transactional"  # withdrawn: no consent there


# Found by independent review aud14 (issue 19): a row sent before ownership was recorded proves no ownership.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_unproven_accounts_row_sent_before_ownership_was_recorded_cannot_unsubscribe_a_form_subscriber(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Mallory's account, registered with Ann's address, was sent with a consent before the shop recorded whose
    member a contact writes (migration 0034): the row says its consent went to the member (``opt_in``), and nothing
    says the member is not Mallory's. Ann subscribed on Mailchimp's own form. Mallory's *Unsubscribe* ended Ann's
    subscription: 0034 took every row sent before it for its member's owner. Such a row's owner is not known, and an
    unproven account's withdrawal ends no subscription there."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.legacy@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    mallory_user, mallory = registered_account(shop, django_user_model, "mallorylegacy", email,
        marketing_permission=True)
    send_due(rounds=2)
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=mallory.pk)
    assert (row.opt_in, row.email) == (True, email)
    SyncState.objects.filter(pk=row.pk).update(foreign_member=None)  # as migration 0034 leaves a row sent before it
    assert unsubscribe_own_only(mallory_user, emulator, api_key, list_id, email) == "subscribed", (
        "an unproven account's row sent before ownership was recorded unsubscribed a Mailchimp form subscriber")
    assert SyncState.objects.get(pk=row.pk).foreign_member is None  # still not known


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("subscriber", ["mailchimp-form", "admin-contact"])
def test_a_strangers_unproven_account_cannot_unsubscribe_a_subscriber_of_mailchimps_own_form(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, subscriber):
    """Ann subscribed on Mailchimp's own signup form (confirmed there: the mailbox is proven hers), or the staff
    created her contact with her consent. Mallory registers an account with Ann's address (Shuup verifies nothing; no
    activation) and presses *Unsubscribe* on her account page. Ann's member was unsubscribed: the guard held only
    where a shop contact proved the address. An unproven account's Unsubscribe withdraws its own consent only when
    the member's subscription is not one its consent made; the page says so."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.mcform@fastmail.com"
    ann = None
    if subscriber == "mailchimp-form":
        emulator.add_members(api_key, list_id, [email], status="subscribed")
    else:
        ann = new_person(permission=True, email=email)
    mallory_user = django_user_model.objects.create_user("mallory4", email, "pw")
    mallory = get_person_contact(mallory_user)
    mallory.add_to_shop(shop)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    stranger = Client(enforce_csrf_checks=True)
    stranger.force_login(mallory_user)
    assert status_on_page(stranger)[0] == "not_subscribed"  # not this account's subscription to end
    response = choose(stranger, subscribe=False)
    assert page_messages(response) == [str(views.UNSUBSCRIBED_ACCOUNT_ONLY)]
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's unproven account unsubscribed a subscriber it never subscribed")
    if ann is not None:
        assert Contact.objects.get(pk=ann.pk).marketing_permission is True
    assert "not one this contact's consent made" in logged_message("storefront.unsubscribe", mallory)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_unproven_accounts_unsubscribe_ends_the_subscription_its_own_consent_made(
        shop, shopper_user, shopper_client, configuration, mailchimp_account):
    """The other side of the rule: the unproven account's own consent subscribed the address (its row last sent
    it), so its Unsubscribe unsubscribes the member as before."""
    emulator, api_key, list_id = mailchimp_account
    choose(shopper_client, subscribe=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "subscribed"
    response = choose(shopper_client, subscribe=False)
    assert page_messages(response) == [str(views.UNSUBSCRIBED)]
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, shopper_user.email)["status"] == "unsubscribed"
    assert status_on_page(shopper_client)[0] == "not_subscribed"


# Review aud11: where Shuup manages contacts per shop, the account page added nobody to the shop.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_with_contacts_per_shop_a_first_visits_account_page_subscribe_reaches_mailchimp(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings):
    """Shuup manages contacts per shop. A shopper with an account (registered in another shop of the Shuup, or by the
    admin without a shop) logs in to this shop for the first time and presses *Subscribe* on the account page. Their
    consent was recorded (marketing permission on, given in this shop) and the page thanked them, but the contact
    was not one of this shop's, so no row was recorded and nothing ever reached Mailchimp. The contact joins the
    shop, as a first checkout or registration there makes it, and the consent is sent. (Shuup's login refuses a
    contact of another shop, so this is reached with a session valid on several shops' hosts, e.g. a shared
    SESSION_COOKIE_DOMAIN, or a superuser shopping: rare.)"""
    from shoop_mailchimp.storefront import subscriptions

    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = True
    emulator, api_key, list_id = mailchimp_account
    email = "first.visit@fastmail.com"
    user = django_user_model.objects.create_user("firstvisit", email, "pw")
    person = get_person_contact(user)
    shop_consent.record_proof(person.pk, email)
    assert not person.shops.filter(pk=shop.pk).exists()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = choose(browser, subscribe=True)
    assert page_messages(response) == [str(views.SUBSCRIBED)]
    send_due(rounds=3)
    person = Contact.objects.get(pk=person.pk)
    member = emulator.get_member(api_key, list_id, email)
    page = subscriptions.newsletter_status(shop, person)
    assert person.marketing_permission is True and person.shops.filter(pk=shop.pk).exists()
    assert (member and member["status"], page) == ("subscribed", subscriptions.SUBSCRIBED), (
        "page says %s; Mailchimp member: %s" % (page, member and member["status"]))


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_strangers_unproven_account_subscribing_first_cannot_then_unsubscribe_a_mailchimp_form_subscriber(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """The rule's edge: Mallory presses Subscribe first (her consent reaches Ann's member, subscribed on Mailchimp's
    own form: it stays subscribed), then Unsubscribe. The member's subscription was never one her consent made."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.mcform2@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed")
    mallory_user = django_user_model.objects.create_user("mallory5", email, "pw")
    get_person_contact(mallory_user).add_to_shop(shop)
    send_due(rounds=2)
    stranger = Client(enforce_csrf_checks=True)
    stranger.force_login(mallory_user)
    choose(stranger, subscribe=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    choose(stranger, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"


# Found by independent review aud15 (F5): a subscription an unproven account's consent made, of a member not its own.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("delivery", ["one-by-one", "batch"])
def test_an_unproven_accounts_unsubscribe_ends_the_subscription_its_consent_made_of_a_guest_buyers_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, delivery):
    """Mailchimp holds Fay's address as a guest buyer's transactional member (she never subscribed). An account with
    her address (not activated) gets the staff's consent: its first send finds the member (not the account's own)
    and, single opt-in, sends the consent as a change: the member is subscribed by this account's consent alone. The
    account's *Unsubscribe* was taken as its own consent only (the member is not its own), and the subscription
    nobody else asked for stayed. It is the account's to end. In a batch, the send that found the member hands the
    change over to a one-by-one send: it counts the same."""
    from shoop_mailchimp.sync import bulk
    from shoop_mailchimp.sync.rounds import run_due_work
    from tests.helpers import batch_posts, make_all_due

    emulator, api_key, list_id = mailchimp_account
    if delivery == "batch":
        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=1,
                                        BATCH_POLL_INTERVAL=0)
    email = "fay.guest.%s@fastmail.com" % delivery
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Fay"})
    user, account = registered_account(shop, django_user_model, "fay15%s" % delivery[:3], email,
        first_name="Stranger", marketing_permission=True)
    if delivery == "batch":
        make_all_due()
        run_due_work()
        assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0
        assert batch_posts(emulator), "the first send went one by one (test set-up)"
        row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=account.pk)
        assert (row.foreign_member, row.member_status) == (True, "transactional")  # handed over, one by one
    send_due(rounds=3)
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=account.pk)
    assert (row.foreign_member, row.opt_in, row.consent_made) == (True, True, True)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Fay")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert page_messages(choose(browser, subscribe=False)) == [str(views.UNSUBSCRIBED)]
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "the subscription only this account's consent made outlived its unsubscribe")
    assert SyncState.objects.get(pk=row.pk).consent_made is False


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_subscription_its_owner_confirmed_is_not_the_unproven_accounts_to_end(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """The edge of the rule above, under double opt-in: the account's consent only asked the guest buyer's member to
    confirm (pending), and Fay confirmed it by the link mailed to her. The subscription is hers now: the account's
    *Unsubscribe* withdraws its own consent only."""
    emulator, api_key, list_id = mailchimp_account
    configuration.double_opt_in = True
    configuration.save()
    email = "fay.confirmed@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Fay"})
    user, account = registered_account(shop, django_user_model, "fay15confirmed", email, marketing_permission=True)
    send_due(rounds=3)
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=account.pk)
    assert (row.foreign_member, row.member_status, row.consent_made) == (True, "pending", True)
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # Fay follows the link
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    assert SyncState.objects.get(pk=row.pk).consent_made is False
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert page_messages(choose(browser, subscribe=False)) == [str(views.UNSUBSCRIBED_ACCOUNT_ONLY)]
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "an unproven account's Unsubscribe ended a subscription the address's owner confirmed")


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_unproven_accounts_unsubscribe_withdraws_the_confirmation_its_first_subscribe_asked_of_a_guest_buyer(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings):
    """An account with a guest buyer's address (transactional in Mailchimp) presses *Subscribe* before the shop ever
    sent it: its first send reads the member and asks its owner to confirm (pending). That request is the account's
    own: its *Unsubscribe* withdraws it (the member unsubscribed, no longer pending)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")  # nothing sent before the press
    email = "guest.asked.first@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Guest"})
    user = django_user_model.objects.create_user("guestaskedfirst", email, "pw")
    get_person_contact(user).add_to_shop(shop)
    browser = presses_on_account_page(user, subscribe=True)
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=get_person_contact(user).pk)
    assert (row.foreign_member, row.member_status, row.consent_made) == (True, "pending", True)
    assert page_messages(choose(browser, subscribe=False)) == [str(views.UNSUBSCRIBED)]
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed"
