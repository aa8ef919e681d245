"""review19b: "A consent given where no shop is named counts in every shop: ticked ... at a checkout"
(docs/storefront-signup.rst). A shopper who consented on shop B's account page only ticks the marketing box at
shop A's checkout: Shuup saves nothing (the shared marketing permission is on already), so A never learns of the
consent given in its own checkout and keeps the shopper as someone who did not consent."""
import pytest
from shuup.core.models import OrderLineType, PersonContact, Shop
from shuup.core.order_creator import OrderCreator, OrderSource
from shuup.testing.factories import (
    create_product,
    create_random_address,
    get_default_supplier,
    get_initial_order_status,
)

from shoop_mailchimp import shop_consent
from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain

pytestmark = pytest.mark.django_db


def checkout(shop, customer, marketing):
    """An order through Shuup's OrderCreator, with the checkout's marketing box as the shopper left it."""
    product = create_product("sku-review19b", shop=shop, supplier=get_default_supplier(), default_price=10)
    source = OrderSource(shop)
    source.customer = customer
    source.billing_address = create_random_address()
    source.shipping_address = create_random_address()
    source.status = get_initial_order_status()
    source.marketing_permission = marketing
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=1,
                    base_unit_price=source.create_price(10), sku=product.sku, text="Product")
    return OrderCreator().create_order(source)


def test_the_box_ticked_at_shop_as_checkout_is_consent_in_shop_a(settings, configuration, mailchimp_account):
    settings.SHUUP_ENABLE_MULTIPLE_SHOPS = True
    settings.SHUUP_MANAGE_CONTACTS_PER_SHOP = False
    emulator, api_key, list_id = mailchimp_account
    shop_a = configuration.shop
    shop_b = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", currency="EUR")
    list_b = emulator.add_list(api_key, name="Shop B audience")
    initialize(MailchimpConfiguration.objects.create(shop=shop_b, api_key=api_key, list_id=list_b, enabled=True))
    person = PersonContact.objects.create(first_name="Eve", email="eve@fastmail.com")
    subscriptions.subscribe_person(shop_b, person, subscriptions.ACCOUNT_PAGE)  # shop B only
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"

    order = checkout(shop_a, PersonContact.objects.get(pk=person.pk), marketing=True)  # ticked in shop A
    drain()

    assert order.marketing_permission is True
    assert shop_consent.consents_in(shop_a.pk, PersonContact.objects.get(pk=person.pk)), (
        "the consent ticked at shop A's checkout does not count in shop A")
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
