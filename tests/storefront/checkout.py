"""Shuup's storefront checkout driven as a browser does (Django's test client): basket, addresses, methods,
confirmation with or without the marketing box (review aud9)."""
import re

from django.test import Client
from shuup.testing.factories import (
    create_default_order_statuses,
    create_product,
    get_default_payment_method,
    get_default_shipping_method,
    get_default_supplier,
)


def storefront_checkout(client, shop, email, marketing, sku="box-mug", host=None, before_confirm=None):
    """One order placed through Shuup's DefaultCheckoutView by ``client`` (logged in or not). ``marketing``:
    True ticks the box, False leaves it unticked, None posts what the page renders (a hidden box's value)."""
    from shuup.core.models import Order, Product

    create_default_order_statuses()
    payment, shipping = get_default_payment_method(), get_default_shipping_method()
    product = Product.objects.filter(sku=sku).first() or create_product(
        sku, shop=shop, supplier=get_default_supplier(), default_price=15)
    extra = {"HTTP_HOST": host} if host else {}
    before = set(Order.objects.values_list("pk", flat=True))
    response = client.post("/basket/", {"command": "add", "product_id": product.pk, "quantity": 1}, **extra)
    assert response.status_code in (200, 302), response.status_code
    data = {}
    for kind in ("billing", "shipping"):
        for key, value in {"name": "Tess Shopper", "email": email, "street": "Main Street 1", "city": "Helsinki",
                           "postal_code": "00100", "country": "FI"}.items():
            data["%s-%s" % (kind, key)] = value
    response = client.post("/checkout/addresses/", data, **extra)
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post("/checkout/methods/", {"shipping_method": shipping.pk, "payment_method": payment.pk},
                           **extra)
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get("/checkout/confirm/", **extra)
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    product_ids = re.search(r'name="product_ids"[^>]*value="([^"]*)"', html) or re.search(
        r'value="([^"]*)"[^>]*name="product_ids"', html)
    form = {"product_ids": product_ids.group(1), "accept_terms": "on"}
    hidden = re.search(r'<input[^>]*type="hidden"[^>]*name="marketing"[^>]*>', html)
    if marketing is None:
        value = re.search(r'value="([^"]*)"', hidden.group(0)) if hidden else None
        if value:
            form["marketing"] = value.group(1)
    elif marketing:
        form["marketing"] = "on"
    if before_confirm is not None:
        before_confirm()
    response = client.post("/checkout/confirm/", form, **extra)
    assert response.status_code == 302, response.content.decode()[:3000]
    [order] = Order.objects.exclude(pk__in=before)
    return order


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client
