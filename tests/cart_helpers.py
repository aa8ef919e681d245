"""Shoppers and their baskets, made as Shuup's storefront makes them (its middleware, its basket storage)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from shuup.core.basket import get_basket, get_basket_order_creator
from shuup.core.models import MutableAddress, PersonContact, get_person_contact
from shuup.front.models import StoredBasket
from shuup.testing.factories import (
    create_product,
    get_default_payment_method,
    get_default_shipping_method,
    get_default_supplier,
    get_initial_order_status,
)
from shuup.testing.utils import apply_request_middleware

#: The storefront's public address in restore links.
STOREFRONT = "https://shop.example.com"


def shopper(permission=True, email=None):
    """A registered shopper: a user and their person contact (sent to Mailchimp as it is saved)."""
    user = get_user_model().objects.create_user("shopper-%s" % (email or "x"), email or "", "pw")
    person = get_person_contact(user)
    PersonContact.objects.filter(pk=person.pk).update(email=email, marketing_permission=permission)
    person.refresh_from_db()
    person.save()
    return user, person


def basket_of(shop, user=None, host=None):
    """The shopper's basket in a storefront request (to ``host``: the shop of that domain), as Shuup's front
    middleware makes it."""
    extra = {"HTTP_HOST": host} if host else {}
    request = apply_request_middleware(RequestFactory().get("/", **extra), user=user or AnonymousUser())
    return get_basket(request)


def stored(basket):
    return StoredBasket.objects.get(pk=basket.request.session["basket_basket_key"]["pk"])


def add_to_basket(basket, shop, product, quantity=1):
    basket.add_product(supplier=get_default_supplier(), shop=shop, product=product, quantity=quantity)
    basket.save()


def products(shop, count=1):
    return [create_product("cart-sku-%d" % number, shop=shop, supplier=get_default_supplier(), default_price=10)
            for number in range(count)]


def order_in(browser, email, name="Guest Shopper"):
    """The basket of a browser (a test Client) ordered by whoever holds it, with ``email``, through Shuup's order
    creator and finalized, as Shuup's checkout does. Returns the order."""
    request = apply_request_middleware(RequestFactory().get("/checkout/"))
    request.session = SessionStore(session_key=browser.session.session_key)
    basket = get_basket(request)
    basket.shipping_method = get_default_shipping_method()
    basket.payment_method = get_default_payment_method()
    basket.status = get_initial_order_status()
    basket.billing_address = basket.shipping_address = MutableAddress(
        name=name, email=email, street="Main Street 1", city="Helsinki", postal_code="00100", country="FI")
    order = get_basket_order_creator().create_order(basket)
    basket.finalize()
    return order


def shopper_with_a_basket(shop, email, permission=True):
    """A registered shopper whose basket holds one new product: (user, person, basket)."""
    user, person = shopper(permission=permission, email=email)
    basket = basket_of(shop, user)
    add_to_basket(basket, shop, products(shop)[0])
    return user, person, basket


def restored_copy(user, holder):
    """Open the restore link of the stored basket ``holder`` in another browser, logged in as ``user``: the copy
    of it that browser's basket becomes."""
    from django.test import Client

    from shoop_mailchimp import cart_links

    browser = Client()
    browser.force_login(user)
    browser.get(cart_links.restore_url(holder)[len(STOREFRONT):])
    return StoredBasket.objects.get(pk=browser.session["basket_basket_key"]["pk"])
