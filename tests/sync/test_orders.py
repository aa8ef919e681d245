import pytest
from shuup.core.models import OrderStatus, PersonContact, Shop
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.models import ConsentRequest, MailchimpConfiguration, MailchimpLogEntry, SyncState, SyncStatus
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, place_order, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_order_sends_products_then_order_with_customer(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = PersonContact.objects.create(first_name="Olga", email="olga@fastmail.com", marketing_permission=True)
    order, products = place_order(shop, person, n_products=2)
    state = SyncState.objects.get(kind="order", object_id=order.pk)
    assert state.status == SyncStatus.SYNCED
    [sent] = emulator.orders(api_key, configuration.store_id)
    assert sent["id"] == str(order.pk)
    assert sent["customer"]["id"] == str(person.pk)
    assert sent["currency_code"] == order.currency
    assert sent["order_total"] == pytest.approx(float(order.taxful_total_price.value))
    assert {line["product_id"] for line in sent["lines"]} == {str(p.pk) for p in products}
    assert {p["id"] for p in emulator.products(api_key, configuration.store_id)} >= {str(p.pk) for p in products}
    assert MailchimpLogEntry.objects.filter(action="order.send", order_id=order.pk).exists()


def test_new_order_refreshes_customer_interests(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = PersonContact.objects.create(first_name="Pia", email="pia@fastmail.com", marketing_permission=True)
    group = create_random_contact_group()
    # Membership written behind the receivers' back (a raw import, say) ...
    group.members.through.objects.create(contactgroup=group, contact=person)
    interest_id = next(
        i["id"] for i in emulator.interest_categories(api_key, list_id)[0]["interests"] if i["name"] == group.name
    )
    assert emulator.get_member(api_key, list_id, person.email)["interests"].get(interest_id) is not True
    # ... is corrected when the contact orders.
    place_order(shop, person, n_products=1)
    assert emulator.get_member(api_key, list_id, person.email)["interests"][interest_id] is True


def test_status_change_updates_the_order(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = PersonContact.objects.create(first_name="Uma", email="uma@fastmail.com")
    order, _ = place_order(shop, person, n_products=1)
    order.set_canceled()
    [sent] = emulator.orders(api_key, configuration.store_id)
    assert sent["cancelled_at_foreign"], "a cancellation reaches Mailchimp whether or not it sends notifications"
    assert order.status.identifier == OrderStatus.objects.get_default_canceled().identifier


def test_unticked_marketing_box_keeps_earlier_consent(shop, configuration, mailchimp_account):
    """Shuup copies an order's (default False) marketing box onto its customer: not a withdrawal."""
    emulator, api_key, list_id = mailchimp_account
    person = PersonContact.objects.create(first_name="Ida", email="ida@fastmail.com", marketing_permission=True)
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    order, _ = place_order(shop, person, n_products=1)
    assert order.marketing_permission is False
    person.refresh_from_db()
    assert person.marketing_permission is True
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    entry = MailchimpLogEntry.objects.get(action="consent.kept", contact_id=person.pk)
    assert entry.kind == "info" and order.identifier in entry.message, "nothing is wrong: no warning"


def test_order_for_contact_without_consent_does_not_subscribe(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = PersonContact.objects.create(first_name="Eva", email="eva@fastmail.com", marketing_permission=False)
    place_order(shop, person, n_products=1)
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"


def test_checkout_succeeds_while_mailchimp_is_down(shop, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = PersonContact.objects.create(first_name="Kai", email="kai@fastmail.com", marketing_permission=True)
    emulator.faults.down()
    try:
        order, _ = place_order(shop, person, n_products=1)
    finally:
        emulator.faults.up()
    assert SyncState.objects.get(kind="order", object_id=order.pk).status == SyncStatus.PENDING
    make_all_due()
    from shoop_mailchimp.sync.drainer import drain

    drain()
    assert SyncState.objects.get(kind="order", object_id=order.pk).status == SyncStatus.SYNCED
    assert [o["id"] for o in emulator.orders(api_key, configuration.store_id)] == [str(order.pk)]


def test_an_order_id_another_store_of_the_account_uses_fails_that_order_alone(shop, configuration,
                                                                           mailchimp_account, settings):
    """Order ids are unique per Mailchimp account (a staging shop on the same account, say)."""
    from shoop_mailchimp.mailchimp.transport import MailchimpSession
    from shoop_mailchimp.sync.drainer import drain

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    person = PersonContact.objects.create(first_name="Sam", email="sam@fastmail.com", marketing_permission=True)
    order, _ = place_order(shop, person, n_products=1)
    with MailchimpSession(api_key) as session:  # the staging shop already sent an order with that id
        session.post("ecommerce/stores", {"id": "staging", "list_id": list_id, "name": "Staging",
                                          "currency_code": "EUR"})
        session.post("ecommerce/stores/staging/products", {"id": "p", "title": "P", "variants": [
            {"id": "p", "title": "P"}]})
        session.post("ecommerce/stores/staging/orders", {
            "id": str(order.pk), "currency_code": "EUR", "order_total": 1,
            "customer": {"id": "s", "email_address": "someone@fastmail.com", "opt_in_status": False},
            "lines": [{"id": "l", "product_id": "p", "product_variant_id": "p", "quantity": 1, "price": 1}]})
    drain()
    row = SyncState.objects.get(kind="order", object_id=order.pk)
    assert row.status == SyncStatus.FAILED and "another store of this account" in row.last_error
    configuration.refresh_from_db()
    assert configuration.paused_reason == "", "one order's problem, not the account's"
    assert SyncState.objects.get(kind="contact", object_id=person.pk).status == SyncStatus.SYNCED


def test_no_order_for_a_customer_whose_consent_was_given_in_another_shops_storefront(
        shop, configuration, mailchimp_account, settings):
    """Shops sharing their contacts, this one sending only people who consented: the consent given on another
    shop's account page is no consent here, so the order (and a member made from its customer) is not sent."""
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = False
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_unconsented=False)
    other = Shop.objects.create(identifier="other", name="Other", public_name="Other", currency="EUR")
    person = PersonContact.objects.create(first_name="Eve", email="eve.elsewhere@fastmail.com")
    subscriptions.subscribe_person(other, person, subscriptions.ACCOUNT_PAGE)
    assert person.marketing_permission is True

    place_order(shop, person)

    assert emulator.orders(api_key, configuration.store_id) == []
    assert emulator.get_member(api_key, list_id, person.email) is None


def test_an_order_of_a_product_deleted_in_mailchimp_still_reaches_mailchimp(shop, configuration, mailchimp_account):
    """The order fails for good with Mailchimp's "A product with the provided ID ('1') does not exist in the
    store": the shop's product row says Mailchimp has it, so the order's CatalogueGap never sends it again, and
    the unchanged product's fingerprint costs no request either. The order is missing from revenue reports; a
    resend from the failed items page fails the same way."""
    import requests
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person, order_row

    emulator, api_key, _ = mailchimp_account
    product = create_product("gone-there", shop=shop, supplier=get_default_supplier(), default_price=9)
    assert any(p["id"] == str(product.pk) for p in emulator.products(api_key, configuration.store_id))
    response = requests.delete("%secommerce/stores/%s/products/%s" % (emulator.base_url, configuration.store_id,
                                                                     product.pk), auth=("x", api_key), timeout=5)
    assert response.status_code == 204, response.text
    order = create_random_order(customer=new_person(), products=[product], shop=shop, random_products=False)
    for _ in range(3):
        make_all_due()
        drain()
    state.resend_failed(shop.id, list(SyncState.objects.orders().values_list("id", flat=True)))
    make_all_due()
    drain()
    orders = {o["id"] for o in emulator.orders(api_key, configuration.store_id)}
    row = order_row(order)
    assert str(order.pk) in orders, (row.status, row.last_error)


def test_a_failed_order_of_a_product_deleted_in_mailchimp_is_sent_by_a_resend(settings, shop, configuration,
                                                                             mailchimp_account):
    """An order that failed for the missing product (before this was repaired): "Resend" on the failed items
    page sends its products again and the order, in one drain."""
    import requests
    from shuup.testing.factories import create_product, create_random_order, get_default_supplier

    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person, order_row

    emulator, api_key, _ = mailchimp_account
    product = create_product("gone-failed", shop=shop, supplier=get_default_supplier(), default_price=9)
    response = requests.delete("%secommerce/stores/%s/products/%s" % (emulator.base_url, configuration.store_id,
                                                                     product.pk), auth=("x", api_key), timeout=5)
    assert response.status_code == 204, response.text
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")  # saves only record
    order = create_random_order(customer=new_person(), products=[product], shop=shop, random_products=False)
    SyncState.objects.filter(kind="order", object_id=order.pk).update(status=SyncStatus.FAILED)
    assert str(order.pk) not in {o["id"] for o in emulator.orders(api_key, configuration.store_id)}
    state.resend_failed(shop.id, [order_row(order).id])
    drain()
    assert order_row(order).status == SyncStatus.SYNCED, order_row(order).last_error
    assert str(order.pk) in {o["id"] for o in emulator.orders(api_key, configuration.store_id)}
    assert any(p["id"] == str(product.pk) for p in emulator.products(api_key, configuration.store_id))


def account_order(shop, customer, marketing_permission, creator_class=None, source_class=None):
    """An order of an account through Shuup's OrderCreator (the storefront's checkout), or ``creator_class`` (the
    admin's order creator), with the checkout's marketing box as left."""
    from django.db.transaction import atomic
    from shuup.core.models import OrderLineType
    from shuup.core.order_creator import OrderCreator, OrderSource
    from shuup.testing.factories import (
        create_product,
        create_random_address,
        get_default_supplier,
        get_initial_order_status,
    )

    product = create_product("acct-%s" % customer.pk, shop=shop, supplier=get_default_supplier(), default_price=12)
    source = (source_class or OrderSource)(shop)
    source.customer = customer
    source.billing_address = create_random_address(name="Stranger")
    source.billing_address.email = customer.email
    source.shipping_address = create_random_address(name="Stranger")
    source.status = get_initial_order_status()
    source.marketing_permission = marketing_permission
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=1,
                    base_unit_price=source.create_price(12), sku=product.sku, text="Thing")
    with atomic():
        return (creator_class or OrderCreator)().create_order(source)


# Fourth review of issue 19 (aud6): the checkout's marketing box of an account whose address nobody proved.
@pytest.mark.parametrize("by", ["order_creator", "storefront_checkout", "staff"])
def test_an_unproven_accounts_checkout_box_does_not_subscribe_a_guest_buyers_member_outright(
        shop, configuration, mailchimp_account, by):
    """A guest bought as an address (Mailchimp holds a transactional member). Someone registers an account with that
    address where Shuup requires no activation (nothing proves it theirs) and ticks the marketing box at checkout.
    Such a shopper's own consent (registration box, account page) is a SIGNUP (pending for a member Mailchimp
    holds): so is the checkout's box, which subscribed the buyer's member outright. An order the staff create in
    the admin's order creator with the box ticked is the shop owner's consent, as the admin's contact form: sent as
    given."""
    from shuup.admin.modules.orders.json_order_creator import AdminOrderCreator, AdminOrderSource
    from shuup.core.basket import get_basket_order_creator

    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person
    from tests.sync.test_guest_orders import guest_order

    emulator, api_key, list_id = mailchimp_account
    email = "buyer.victim@fastmail.com"
    guest_order(shop, email)
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    stranger = new_person(permission=False, email=email)
    stranger.add_to_shop(shop)
    make_all_due()
    drain()
    if by == "staff":
        account_order(shop, stranger, marketing_permission=True, creator_class=AdminOrderCreator,
                      source_class=AdminOrderSource)
    elif by == "storefront_checkout":  # the creator Shuup's checkout uses
        account_order(shop, stranger, marketing_permission=True, creator_class=type(get_basket_order_creator()))
    else:
        account_order(shop, stranger, marketing_permission=True)
    send_due(rounds=2)
    assert PersonContact.objects.get(pk=stranger.pk).marketing_permission is True
    if by == "staff":
        assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    else:
        assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
        assert emulator.confirmations(api_key)[-1]["email_address"] == email


# Review aud9: Shuup's contacts per shop; the customer joins the shop after the box is saved onto them.
def test_with_contacts_per_shop_a_first_checkout_box_is_still_the_shoppers_consent(
        shop, configuration, mailchimp_account, django_user_model, settings):
    """Shuup manages contacts per shop (SHUUP_ENABLE_MULTIPLE_SHOPS, SHUUP_MANAGE_CONTACTS_PER_SHOP). A shopper whose
    contact is not yet one of this shop's (their first order here: Shuup's OrderCreator adds the customer to the
    shop only after saving the box onto them) ticks the box; their address, which nobody proved, is held by
    Mailchimp as a guest buyer's transactional member. The save named no shop the contact belongs to, so no
    storefront consent request was made; the shop-added signal then queued the contact as a plain change: the held
    member stayed transactional (nobody asked to confirm) while the shop held the shopper as consenting. The
    consent is handled when the contact joins the shop: the member is asked to confirm."""
    from shuup.core.models import get_person_contact

    from tests.storefront.checkout import logged_in, storefront_checkout

    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = True
    emulator, api_key, list_id = mailchimp_account
    email = "first.order.here@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="transactional")
    user = django_user_model.objects.create_user("tess", email, "pw")
    person = get_person_contact(user)
    assert not person.shops.filter(pk=shop.pk).exists()
    order = storefront_checkout(logged_in(user), shop, email, marketing=True)
    assert order.marketing_permission and person.shops.filter(pk=shop.pk).exists()
    for _ in range(3):
        make_all_due()
        drain()
    person = PersonContact.objects.get(pk=person.pk)
    assert person.marketing_permission is True
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending", (
        "held, unproven address: member %s; the shopper's page says %s" % (
            emulator.get_member(api_key, list_id, email)["status"], subscriptions.newsletter_status(shop, person)))
    assert emulator.confirmations(api_key)[-1]["email_address"] == email


# Fourth review of issue 19 (aud6): the admin's order editor copies the order's original marketing box back.
@pytest.mark.parametrize("modifier", ["order_modifier", "admin_order_modifier"])
def test_editing_an_old_order_does_not_resubscribe_a_customer_who_withdrew(shop, configuration, mailchimp_account,
                                                                           modifier):
    """An account ticked the marketing box at checkout, later unsubscribed (their consent withdrawn). The staff edit
    that old order in the admin (Shuup's OrderModifier): Shuup copies the order's marketing box, ticked when it was
    placed, back onto the customer, which turned their consent on again and had Mailchimp resubscribe someone who
    unsubscribed. An order edit gives no consent: the customer keeps none, the member stays unsubscribed, and the
    edit is logged."""
    from shuup.admin.modules.orders.json_order_creator import AdminOrderModifier, AdminOrderSource
    from shuup.core.models import OrderLineType
    from shuup.core.order_creator import OrderModifier, OrderSource
    from shuup.testing.factories import create_product, get_default_supplier

    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person

    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email="edited.later@fastmail.com")
    person.add_to_shop(shop)
    order = account_order(shop, person, marketing_permission=True)
    assert order.marketing_permission is True
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = False  # withdrawn (the account page, an edit of the contact)
    person.save()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"

    source = (AdminOrderSource if modifier == "admin_order_modifier" else OrderSource)(shop)
    source.update_from_order(order)
    assert source.marketing_permission is True, "the order's original box"
    product = create_product("edited-%s" % order.pk, shop=shop, supplier=get_default_supplier(), default_price=5)
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=2,
                    base_unit_price=source.create_price(5), sku=product.sku, text="Another thing")
    (AdminOrderModifier if modifier == "admin_order_modifier" else OrderModifier)().update_order_from_source(
        source, order)
    send_due(rounds=2)
    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"
    entry = MailchimpLogEntry.objects.get(action="consent.not_given", contact_id=person.pk)
    assert entry.order_id == order.pk and order.identifier in entry.message


# Fifth review of issue 19 (aud8): an order edit changes the customer's consent in neither direction; a box
# Shuup's checkout hid gives no consent.
def test_editing_an_old_unticked_order_does_not_withdraw_a_consent_given_since(shop, configuration, mailchimp_account):
    """A customer placed an order without ticking the marketing box (no consent then), and later subscribed (the
    account page, the staff). The staff edit that old order in the admin (Shuup's OrderModifier, e.g. add a line):
    Shuup copies the order's unticked box back onto the customer and saves them. An order edit gives no consent
    (ORDER_EDITED), and it withdraws none either: yet the customer's consent is turned off, Mailchimp unsubscribes
    them (a member who can then only come back through a confirmation), and every other contact of the address
    stops consenting too."""
    from shuup.admin.modules.orders.json_order_creator import AdminOrderModifier, AdminOrderSource
    from shuup.core.models import Contact, OrderLineType
    from shuup.testing.factories import create_product, get_default_supplier

    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person

    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False, email="subscribed.since@fastmail.com")
    person.add_to_shop(shop)
    order = account_order(shop, person, marketing_permission=False)
    person = PersonContact.objects.get(pk=person.pk)
    person.marketing_permission = True  # given since (the admin's contact form)
    person.save()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    source = AdminOrderSource(shop)
    source.update_from_order(order)
    assert source.marketing_permission is False, "the order's original box"
    product = create_product("edited-%s" % order.pk, shop=shop, supplier=get_default_supplier(), default_price=5)
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=2,
                    base_unit_price=source.create_price(5), sku=product.sku, text="Another thing")
    AdminOrderModifier().update_order_from_source(source, order)
    send_due(rounds=2)
    kept = Contact.objects.get(pk=person.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, person.email)["status"]
    assert (kept, member) == (True, "subscribed"), (kept, member)
    entry = MailchimpLogEntry.objects.get(action="consent.kept", contact_id=person.pk)
    assert entry.order_id == order.pk and order.identifier in entry.message


def test_a_hidden_checkout_box_copied_from_a_stale_page_does_not_give_consent_back(
        shop, configuration, mailchimp_account):
    """Once a customer was asked at checkout (``marketing_permission_asked``), Shuup's confirm page hides the box and
    fills it with the customer's consent as the page was rendered. The customer (subscribed) opens the confirm page,
    unsubscribes through Mailchimp's link meanwhile (webhook: consent off), and places the order from the open page:
    the hidden box carries True, OrderCreator copies it onto them and the addon takes it for the shopper's consent
    at checkout: consent on again in the shop and a confirmation asked of someone who just unsubscribed (the addon's
    own docstring: 'Once asked, Shuup's checkout hides the box and copies the customer's flag into it: no consent
    given here')."""
    from django.test import Client
    from shuup.core.models import Contact

    from shoop_mailchimp.sync.drainer import drain
    from tests.helpers import new_person
    from tests.webhooks.helpers import post_event

    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email="asked.before@fastmail.com")
    person.add_to_shop(shop)
    person.options = {"marketing_permission_asked": True}
    person.save()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    emulator.set_member_status(api_key, list_id, person.email, "unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=person.email, action="unsub").status_code == 200
    assert Contact.objects.get(pk=person.pk).marketing_permission is False
    before = len(emulator.confirmations(api_key))
    # The confirm page rendered before the unsubscribe: its hidden box holds True.
    account_order(shop, PersonContact.objects.get(pk=person.pk), marketing_permission=True)
    send_due(rounds=2)
    consent = Contact.objects.get(pk=person.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, person.email)["status"]
    asked = len(emulator.confirmations(api_key)) - before
    assert (consent, member, asked) == (False, "unsubscribed", 0), (consent, member, asked)
    entry = MailchimpLogEntry.objects.get(action="consent.not_given", contact_id=person.pk)
    assert "hid the marketing box" in entry.message


def asked_to_confirm_then_ordered_unticked(shop, emulator, api_key, list_id, email):
    """A shopper whose address nobody proved presses Subscribe on the account page while Mailchimp holds the address
    as a guest buyer: asked to confirm (member pending, the row keeps ``confirm`` until the owner confirms). They
    then place an order without ticking the marketing box. Returns the person."""
    emulator.add_members(api_key, list_id, [email], status="transactional")
    person = new_person(permission=False, email=email)
    person.add_to_shop(shop)
    make_all_due()
    drain()
    subscriptions.subscribe_person(shop, PersonContact.objects.get(pk=person.pk), subscriptions.ACCOUNT_PAGE)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    assert row_of(person).consent_request == ConsentRequest.CONFIRM
    account_order(shop, PersonContact.objects.get(pk=person.pk), marketing_permission=False)
    make_all_due()
    drain()
    return person


def test_an_order_placed_without_ticking_the_box_keeps_a_pending_confirmation_request(
        shop, configuration, mailchimp_account):
    """The unticked box is no withdrawal: the save keeps the consent and the confirmation it waits for (before, the
    save's withdrawal dropped the request and the undo gave back the flag only: the next send took the consent as
    given outright)."""
    emulator, api_key, list_id = mailchimp_account
    email = "pending.buyer@fastmail.com"
    person = asked_to_confirm_then_ordered_unticked(shop, emulator, api_key, list_id, email)
    make_all_due()
    drain()
    consent = PersonContact.objects.get(pk=person.pk).marketing_permission
    state = (consent, row_of(person).consent_request, emulator.get_member(api_key, list_id, email)["status"])
    assert state == (True, ConsentRequest.CONFIRM, "pending")
    assert MailchimpLogEntry.objects.filter(action="consent.kept", contact_id=person.pk).count() == 1
