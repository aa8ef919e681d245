"""Restore links: the ``checkout_url`` a cart carries to Mailchimp, which puts a copy of that basket in a
shopper's browser from an abandoned-cart e-mail (:func:`shoop_mailchimp.storefront.views.restore_cart`).

The token is the basket's id and a keyed hash of its key (HMAC with the site's secret), signed with the site's
secret (``django.core.signing``, a salt of its own), so it cannot be guessed or forged, and it is refused after
``CART_LIFETIME``: the cart itself is deleted in Mailchimp by then. Signing is not encryption: anybody can read a
token, so it holds no secret (the basket's key is what Shuup finds a session's basket by). It carries no login:
it restores lines, never the shopper's account.
"""
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from shuup.front.models import StoredBasket

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.shops import shop_storefront_url

SALT = "shoop_mailchimp.cart_restore"
KEY_HASH_SALT = "shoop_mailchimp.cart_restore.key"
RESTORE_URL_NAME = "shoop_mailchimp_cart_restore"
RESTORE_VIEW_NAME = "shuup:" + RESTORE_URL_NAME
#: In a basket's ``extra_data`` (Shuup's public place for an addon's data, which the order creator copies into the
#: order's ``extra_data``): the stored basket a restore link copied into it (its order closes that basket's cart).
RESTORED_FROM = "shoop_mailchimp_restored_from"
#: In a stored basket's data: when (seconds since the epoch) an order was placed from a copy its link made.
ORDERED_FROM_COPY = "shoop_mailchimp_ordered_from_copy"


def restored_from(extra_data):
    """The id of the stored basket a restore link copied into a basket (or an order), from its ``extra_data``; or
    None."""
    value = (extra_data or {}).get(RESTORED_FROM) if isinstance(extra_data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def basket_restored_from(basket_data):
    """:func:`restored_from` of a stored basket's data; also the key at the top of the data, where restores wrote it
    before they used Shuup's public basket API."""
    basket_data = basket_data if isinstance(basket_data, dict) else {}
    return restored_from(basket_data.get("extra_data")) or restored_from(basket_data)


class BadLink(Exception):
    """The link was altered, names no basket, or is older than CART_LIFETIME."""


def key_hash(key):
    """A keyed hash of a basket's key: it proves the link was made for that basket, and does not reveal the key."""
    return salted_hmac(KEY_HASH_SALT, str(key)).hexdigest()[:32]


def make_token(basket):
    return signing.dumps({"b": basket.pk, "h": key_hash(basket.key)}, salt=SALT)


def read_token(token):
    """(basket id, keyed hash of its key) of a token made by :func:`make_token`; raises BadLink. Links made
    before the hash (with the key itself) are refused."""
    try:
        data = signing.loads(token, salt=SALT, max_age=get_setting("CART_LIFETIME"))
        return int(data["b"]), str(data["h"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadLink()


def names_basket(hashed_key, basket):
    """Whether a token's hash is of this basket's key (compared in constant time)."""
    return bool(basket.key) and constant_time_compare(hashed_key, key_hash(basket.key))


def restore_url(basket):
    """The absolute restore link of a stored basket in its own shop's storefront, or "" when that storefront's
    address is unknown."""
    path = reverse(RESTORE_VIEW_NAME, kwargs={"token": make_token(basket)})
    return shop_storefront_url(basket.shop, path)


#: Compare-and-set attempts of :func:`mark_ordered_from_copy` against the basket's own saves.
MARK_ATTEMPTS = 5


def mark_ordered_from_copy(shop_id, basket_id, ordered_on):
    """Note in a link's stored basket that an order was placed from a copy of it (in the checkout's transaction).
    The basket itself stays as it is for whoever holds it; its link says it is gone, and its cart goes, until
    it changes again. A compare-and-set on the basket's ``updated_on`` (which every save of the basket moves):
    a save by its holder between the read and the write is never overwritten, the note is written on top of it.
    Returns whether the note was written."""
    for _attempt in range(MARK_ATTEMPTS):
        stored = StoredBasket.objects.filter(pk=basket_id, shop_id=shop_id, deleted=False).only(
            "data", "updated_on").first()
        if stored is None:
            return False
        data = dict(stored.data or {}, **{ORDERED_FROM_COPY: ordered_on.timestamp()})
        # Not its updated_on: the basket did not change.
        if StoredBasket.objects.filter(pk=basket_id, updated_on=stored.updated_on).update(data=data):
            return True
    return False


def ordered_from_copy(basket):
    """Whether an order was placed from a copy of this stored basket since the basket last changed."""
    ordered_at = (basket.data or {}).get(ORDERED_FROM_COPY)
    return isinstance(ordered_at, (int, float)) and ordered_at >= basket.updated_on.timestamp()
