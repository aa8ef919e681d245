"""A shopper and a shop owner driving the demo over HTTP, as a browser would (the packaging test and
the request-time benchmark use them)."""
import re

import requests


def check_out(shop_url, product_path):
    """A guest buys the demo product through the storefront's checkout; returns the order page's URL."""
    browser = requests.Session()
    assert browser.get(shop_url + product_path.lstrip("/"), timeout=30).status_code == 200

    def post(path, data):
        data = dict(data, csrfmiddlewaretoken=browser.cookies["csrftoken"])
        response = browser.post(shop_url + path, data=data, headers={"Referer": shop_url + path}, timeout=30)
        assert response.status_code == 200, response.text[:2000]
        return response

    product_id = re.search(r"/p/(\d+)-", product_path).group(1)
    post("basket/", {"command": "add", "product_id": product_id, "quantity": 1})
    address = {"name": "Grace Hopper", "email": "grace.hopper@fastmail.com", "street": "1 Compiler Road",
               "city": "Arlington", "postal_code": "22201", "country": "US", "region_code": "VA",
               "phone": "+1 555 0100"}
    form = {"%s-%s" % (kind, key): value for kind in ("billing", "shipping") for key, value in address.items()}
    assert browser.get(shop_url + "checkout/", timeout=30).url.endswith("/checkout/addresses/")
    methods = post("checkout/addresses/", form)
    assert methods.url.endswith("/checkout/methods/"), methods.text[:2000]
    shipping = re.search(r'name="shipping_method"[^>]*value="(\d+)"', methods.text).group(1)
    payment = re.search(r'name="payment_method"[^>]*value="(\d+)"', methods.text).group(1)
    confirm = post("checkout/methods/", {"shipping_method": shipping, "payment_method": payment})
    assert confirm.url.endswith("/checkout/confirm/"), confirm.text[:2000]
    done = post("checkout/confirm/", {"accept_terms": "on", "marketing": "on", "product_ids": product_id})
    assert "/order/complete/" in done.url, done.text[:2000]
    return done.url


def admin_session(shop_url, username, password):
    """A logged-in admin browser."""
    browser = requests.Session()
    browser.get(shop_url + "sa/login/", timeout=30)
    response = browser.post(shop_url + "sa/login/", timeout=30, data={
        "username": username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": shop_url + "sa/login/"})
    assert "/sa/login/" not in response.url, "the admin login failed"
    return browser
