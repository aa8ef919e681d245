"""review18d: a product deleted in the shop (Shuup's soft delete) while it sits in a shopper's basket: the product
sync deletes it in Mailchimp, then the basket's next cart send names it again, and the cart's catalogue gap
re-creates it (hidden) in Mailchimp's store. Nothing deletes it again (its product row is gone): an orphan in
Mailchimp's catalogue, and an abandoned-cart e-mail offering a product the shop no longer sells (its restore link
then copies a line that cannot be ordered)."""
import pytest

from shoop_mailchimp.sync.drainer import drain
from tests.cart_helpers import add, basket_of, products, shopper
from tests.helpers import make_all_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def send():
    for _ in range(2):
        make_all_due()
        drain()


def test_a_product_deleted_from_the_shop_is_not_brought_back_by_a_cart(shop, cart_settings, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    user, person = shopper(email="deleted.dora@fastmail.com")
    basket = basket_of(shop, user)
    kept, deleted = products(shop, 2)
    add(basket, shop, kept)
    add(basket, shop, deleted)
    send()
    deleted.soft_delete()
    send()
    assert str(deleted.pk) not in {p["id"] for p in emulator.products(api_key, cart_settings.store_id)}, \
        "the product sync deleted it in Mailchimp"

    add(basket, shop, kept)  # the shopper changes the basket
    send()
    [cart] = emulator.carts(api_key, cart_settings.store_id)
    assert str(deleted.pk) not in {p["id"] for p in emulator.products(api_key, cart_settings.store_id)}, \
        "the cart re-created the deleted product in Mailchimp's catalogue"
    assert [line["product_id"] for line in cart["lines"]] == [str(kept.pk)]
