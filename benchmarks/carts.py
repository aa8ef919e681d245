"""Carts in the storefront: what adding to the basket costs with the integration on vs off (and that the request
makes no Mailchimp call), and how many cart requests a shopper's burst of basket updates makes.

The storefront's own basket command (``POST /basket/``, ``command=add``) through Django's test client, with the
whole middleware stack, by a logged-in shopper who consented (a basket that becomes a cart). A basket save only
records (it wakes no drainer: the cart is due after the quiet period), so the delivery mode does not matter here;
the worker mode keeps a drainer thread from sharing SQLite with the requests measured.
"""
import statistics
import sys

from common import (
    MISSED,
    configure_shop,
    ratio_line,
    setup_django,
    size,
    start_emulator,
    switch_integration,
    timed,
)

#: Timed basket requests per side (on, off), alternating one by one: Shuup's add to basket is some 60 queries, of
#: which the integration adds one SELECT while the cart waits out its quiet period (one UPDATE when it starts one);
#: alternating keeps the machine's other work from weighing on one side.
UPDATES = size("BENCH_CART_UPDATES", 20, 8)
BURST = size("BENCH_CART_BURST", 100, 100)


def shopper_client(number):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from shuup.core.models import PersonContact, get_person_contact

    user = get_user_model().objects.create_user("bench-shopper-%d" % number, "bench.%d@gmail.com" % number, "pw")
    person = get_person_contact(user)
    PersonContact.objects.filter(pk=person.pk).update(email=user.email, marketing_permission=True)
    client = Client()
    client.force_login(user)
    return client


def shopper_basket(number):
    """A consenting shopper's basket in a storefront request, as Shuup's front middleware makes it."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from shuup.core.basket import get_basket
    from shuup.testing.utils import apply_request_middleware

    shopper_client(number)
    user = get_user_model().objects.get(username="bench-shopper-%d" % number)
    return get_basket(apply_request_middleware(RequestFactory().get("/"), user=user))


def add_to_basket(client, product, count):
    for _ in range(count):
        response = client.post("/basket/", {"command": "add", "product_id": product.pk, "quantity": 1})
        assert response.status_code in (200, 302), response.status_code


def set_enabled(configuration, enabled):
    """As the shop owner switches it; the recording shops' cache is filled again before the next timed request,
    as it is in a running shop."""
    from shoop_mailchimp.shops import recording_shop_ids

    switch_integration(configuration, enabled)
    recording_shop_ids()


def main():
    setup_django()
    from django.conf import settings
    from django.utils import timezone
    from shuup.testing.factories import create_product, get_default_supplier
    from shuup.xtheme import set_current_theme

    from shoop_mailchimp.models import SyncState
    from shoop_mailchimp.sync.drainer import drain

    emulator, api_key, list_id = start_emulator()
    try:
        configuration = configure_shop(emulator, api_key, list_id)
        set_current_theme("shuup.themes.classic_gray", configuration.shop)
        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL="https://shop.example.com")
        product = create_product("bench-cart-mug", shop=configuration.shop, supplier=get_default_supplier(),
                                 default_price=12)
        clients = {enabled: shopper_client(int(enabled)) for enabled in (False, True)}
        add_to_basket(clients[False], product, 2)  # warm-up: templates, caches
        add_to_basket(clients[True], product, 2)
        timings = {True: [], False: []}
        http_during_requests = 0
        for _ in range(UPDATES):
            for enabled in (False, True):
                set_enabled(configuration, enabled)
                before = len(emulator.requests)
                timings[enabled].append(timed(add_to_basket, clients[enabled], product, 1)[0])
                http_during_requests += len(emulator.requests) - before
        ok = ratio_line("add to basket, integration on / off", statistics.median(timings[True])
                        / statistics.median(timings[False]), 1.05)
        ok &= ratio_line("Mailchimp requests during the basket requests", http_during_requests, 0, unit="")

        set_enabled(configuration, True)
        # The burst through Shuup's basket itself (what the add command does, less its product checks): the
        # figure is the number of sends, not the requests' time.
        basket = shopper_basket(3)
        for _ in range(BURST):  # within seconds: well inside a minute
            basket.add_product(supplier=get_default_supplier(), shop=configuration.shop, product=product, quantity=1)
            basket.save()
        # The quiet period (CART_QUIET_SECONDS) passes: the burst's row becomes due.
        basket_id = basket.request.session["basket_basket_key"]["pk"]
        SyncState.objects.carts().filter(object_id=basket_id).update(next_attempt_at=timezone.now())
        before = len(emulator.requests)
        drain()
        cart_requests = [r for r in emulator.requests[before:] if "/carts/%s" % basket_id in r["path"] + "/"
                         or r["path"].endswith("/carts")]
        ok &= ratio_line("cart requests for %d basket updates by one shopper" % BURST, len(cart_requests), 3,
                         unit="")
    finally:
        emulator.stop()
    sys.exit(0 if ok else MISSED)


if __name__ == "__main__":
    main()
