"""Restore links: the ``checkout_url`` a cart carries to Mailchimp, which puts that exact basket back in a
shopper's browser from an abandoned-cart e-mail.

The token is the basket's id and key signed with the site's secret (``django.core.signing``, a salt of its
own), so it cannot be guessed or forged, and it is refused after ``CART_LIFETIME``: the cart itself is deleted
in Mailchimp by then. It carries no login: it restores lines, never the shopper's account.
"""
from django.core import signing
from django.urls import reverse

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.sync.kinds.fields import shop_storefront_url

SALT = "shoop_mailchimp.cart_restore"
RESTORE_URL_NAME = "shoop_mailchimp_cart_restore"
RESTORE_VIEW_NAME = "shuup:" + RESTORE_URL_NAME


class BadLink(Exception):
    """The link was altered, names no basket, or is older than CART_LIFETIME."""


def make_token(basket):
    return signing.dumps({"b": basket.pk, "k": basket.key}, salt=SALT, compress=True)


def read_token(token):
    """(basket id, basket key) of a token made by :func:`make_token`; raises BadLink."""
    try:
        data = signing.loads(token, salt=SALT, max_age=get_setting("CART_LIFETIME"))
        return int(data["b"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadLink()


def restore_url(basket):
    """The absolute restore link of a stored basket in its own shop's storefront, or "" when that storefront's
    address is unknown."""
    path = reverse(RESTORE_VIEW_NAME, kwargs={"token": make_token(basket)})
    return shop_storefront_url(basket.shop, path)
