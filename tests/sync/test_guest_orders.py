"""Orders placed without an account: sent with a customer per e-mail address, consent from the order."""
import pytest
from django.db.transaction import atomic
from shuup.core.models import AnonymousContact, OrderLineType
from shuup.core.order_creator import OrderCreator, OrderSource
from shuup.testing.factories import (
    create_product,
    create_random_address,
    get_default_supplier,
    get_initial_order_status,
)

from shoop_mailchimp.models import MailchimpConfiguration, SyncStatus
from shoop_mailchimp.sync.kinds.order import guest_customer_id
from tests.helpers import order_row, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def guest_order(shop, email, marketing_permission=False, name="Gil Guest"):
    """A checkout without an account, through Shuup's OrderCreator (a product of its own each time: an earlier
    order's product of the address is renamed)."""
    from shuup.core.models import Product
    Product.objects.filter(sku="guest-%s" % email).update(sku="old-%s-%d" % (email, Product.objects.count()))
    product = create_product("guest-%s" % email, shop=shop, supplier=get_default_supplier(), default_price=12)
    source = OrderSource(shop)
    source.customer = AnonymousContact()
    source.billing_address = create_random_address(name=name)
    source.billing_address.email = email  # Shuup copies the order's e-mail from its billing address
    source.shipping_address = create_random_address(name=name)
    source.status = get_initial_order_status()
    source.marketing_permission = marketing_permission
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=1,
                    base_unit_price=source.create_price(12), sku=product.sku, text="Guest thing")
    with atomic():
        return OrderCreator().create_order(source)

def test_guest_order_goes_to_mailchimp_as_a_transactional_customer(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    order = guest_order(shop, "gil@fastmail.com")
    assert order.customer_id is None and order.email == "gil@fastmail.com"
    assert order_row(order).status == SyncStatus.SYNCED
    [sent] = emulator.orders(api_key, configuration.store_id)
    assert sent["customer"]["id"] == guest_customer_id("gil@fastmail.com")
    customer = emulator.get_customer(api_key, configuration.store_id, guest_customer_id("gil@fastmail.com"))
    assert customer["email_address"] == "gil@fastmail.com" and customer["opt_in_status"] is False
    assert (customer["first_name"], customer["last_name"]) == ("Gil", "Guest")
    assert emulator.get_member(api_key, list_id, "gil@fastmail.com")["status"] == "transactional"


def test_a_guest_who_ticks_the_marketing_box_is_subscribed(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    guest_order(shop, "tick@fastmail.com", marketing_permission=True)
    assert emulator.get_member(api_key, list_id, "tick@fastmail.com")["status"] == "subscribed"


def test_with_double_opt_in_a_guest_is_never_subscribed_directly(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=True)
    guest_order(shop, "doi@fastmail.com", marketing_permission=True)
    assert emulator.get_member(api_key, list_id, "doi@fastmail.com")["status"] == "transactional"


def test_a_guest_who_unsubscribed_stays_unsubscribed(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    guest_order(shop, "gone@fastmail.com", marketing_permission=True)
    emulator.set_member_status(api_key, list_id, "gone@fastmail.com", "unsubscribed")
    again = guest_order(shop, "Gone@FastMail.com", marketing_permission=True)
    assert order_row(again).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, "gone@fastmail.com")["status"] == "unsubscribed"
    customer_ids = {order["customer"]["id"] for order in emulator.orders(api_key, configuration.store_id)}
    assert customer_ids == {guest_customer_id("gone@fastmail.com")}, "one customer for both orders"


def test_a_guest_order_without_an_email_is_skipped_with_the_reason(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    order = guest_order(shop, "")
    state = order_row(order)
    assert state.status == SyncStatus.SKIPPED and "without an e-mail address" in state.last_error
    assert emulator.orders(api_key, configuration.store_id) == []


# Fifth review of issue 19 (aud8): a guest's box for an address Mailchimp holds does not subscribe it outright.
def test_a_strangers_guest_checkout_box_does_not_subscribe_a_guest_buyers_held_member_outright(
        shop, configuration, mailchimp_account):
    """A guest bought as an address without ticking the box (Mailchimp holds a transactional member). A stranger
    checks out as a guest typing that address, box ticked, single opt-in. Every other storefront consent for an
    address nobody proved (block, registration box, account page, an account's checkout box) asks a member
    Mailchimp holds to confirm first; the guest checkout's box subscribes the buyer outright (the order's customer
    goes with opt_in_status true: false -> true on an existing customer subscribes, PLATFORM.md)."""
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    assert not configuration.double_opt_in
    email = "guest.victim@fastmail.com"
    guest_order(shop, email)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    guest_order(shop, email, marketing_permission=True, name="Stranger Danger")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] != "subscribed"
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    from shoop_mailchimp.models import MailchimpLogEntry
    assert MailchimpLogEntry.objects.filter(action="order.box_not_applied").count() == 1


def test_in_a_burst_a_guests_box_does_not_subscribe_a_held_member_outright(burst_settings, mailchimp_account):
    """The same through a burst's batch (orders planned in bulk): the box of a guest order for an address Mailchimp
    holds is not applied, and logged; the box of a guest order for a new address subscribes it."""
    from shoop_mailchimp.models import BatchOrigin, MailchimpBatch, MailchimpLogEntry
    from shoop_mailchimp.sync import bulk
    from shoop_mailchimp.sync.rounds import run_due_work

    emulator, api_key, list_id = mailchimp_account
    shop = burst_settings.shop
    held = "burst.victim@fastmail.com"
    guest_order(shop, held)
    run_due_work()
    assert emulator.get_member(api_key, list_id, held)["status"] == "transactional"
    newcomers = ["burst.newcomer%d@fastmail.com" % number for number in range(6)]
    orders = [guest_order(shop, held, marketing_permission=True, name="Stranger Danger")] + [
        guest_order(shop, email, marketing_permission=True) for email in newcomers]
    run_due_work()
    assert bulk.resume_batches(shop.pk, poll_interval=0.02, timeout=30) == 0
    assert MailchimpBatch.objects.filter(origin=BatchOrigin.BURST).exists()
    assert all(order_row(order).status == SyncStatus.SYNCED for order in orders)
    assert emulator.get_member(api_key, list_id, held)["status"] == "transactional"
    assert {emulator.get_member(api_key, list_id, email)["status"] for email in newcomers} == {"subscribed"}
    [entry] = MailchimpLogEntry.objects.filter(action="order.box_not_applied")
    assert entry.order_id == orders[0].pk


# Review aud9: a guest's box for an address a contact of the shop has, never sent (the shop sends only consenters).
def test_a_strangers_guest_box_does_not_subscribe_a_contacts_address_the_shop_never_sent(
        shop, configuration, mailchimp_account):
    """The shop sends only people who consented (its Mailchimp settings). Vera has an account and never consented,
    so Mailchimp holds nothing of her address. A stranger checks out as a guest typing Vera's address and ticks the
    box: the order's customer went with opt_in_status true and Vera's address was subscribed outright (single
    opt-in), although the shop holds her as not consenting and every other storefront consent typed for an address
    the shop knows (the newsletter block: *confirm*) asks its owner first. The box is not applied, and logged."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.models import MailchimpLogEntry
    from shoop_mailchimp.storefront import subscriptions
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import make_all_due, new_person

    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_unconsented=False)
    vera = new_person(permission=False, email="vera.known@fastmail.com")
    for _ in range(3):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, vera.email) is None
    order = guest_order(shop, vera.email, marketing_permission=True, name="Stranger Danger")
    for _ in range(3):
        make_all_due()
        drain()
    member = emulator.get_member(api_key, list_id, vera.email)
    vera = PersonContact.objects.get(pk=vera.pk)
    assert member is None or member["status"] != "subscribed", (
        "Vera's address subscribed by a stranger's guest box; her page says %s, her consent %s" % (
            subscriptions.newsletter_status(shop, vera), vera.marketing_permission))
    assert vera.marketing_permission is False
    assert list(MailchimpLogEntry.objects.filter(action="order.box_not_applied").values_list(
        "order_id", flat=True)) == [order.pk]


def test_a_guest_box_for_a_new_address_still_subscribes_it_while_another_contact_exists(
        shop, configuration, mailchimp_account):
    """The held look-up is by address: a guest's box for an address no contact of the shop has still subscribes."""
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import make_all_due, new_person

    emulator, api_key, list_id = mailchimp_account
    new_person(permission=False, email="someone.else@fastmail.com")
    guest_order(shop, "fresh.guest@fastmail.com", marketing_permission=True)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, "fresh.guest@fastmail.com")["status"] == "subscribed"


# Found by independent review aud11 (issue 19).
def test_a_guest_order_whose_domain_idna_2008_refuses_fails_with_the_shops_own_reason(
        shop, configuration, mailchimp_account):
    """A guest typed ``gil@a\u200db.de`` (a joiner IDNA 2008 refuses; IDNA 2003 read it as ab.de): the order is
    not sent under another domain, nor sent for Mailchimp to refuse with its generic "Please provide a valid email
    address": its row says why in the shop's words, as a contact's does (contact.address_problem)."""
    emulator, api_key, list_id = mailchimp_account
    order = guest_order(shop, "gil@a\u200db.de", marketing_permission=True)
    send_due(rounds=2)
    row = order_row(order)
    assert emulator.get_member(api_key, list_id, "gil@ab.de") is None
    assert row.status == SyncStatus.FAILED and "domain" in row.last_error, (row.status, row.last_error)
    assert "correct it on the order" in row.last_error
    assert emulator.orders(api_key, configuration.store_id) == []
