"""Signal receivers: record what Mailchimp must learn, in the caller's transaction. Nothing here talks to Mailchimp; a
drainer delivers after commit (see :mod:`shoop_mailchimp.sync.delivery`).

One module per thing the shop changes: ``addresses`` (the address key of a contact or an order saved),
``contacts`` (a contact saved, deleted, anonymized, added to a shop; consent turned on or off), ``groups`` (contact
groups and their members), ``orders``, ``products`` (the catalogue), ``stock``, ``prices``
(what changes a visitor's price without a product save: discounts, group prices, price display), ``promos``
(coupon campaigns), ``carts`` (stored baskets), ``configuration`` (a shop's Mailchimp settings) and ``shops`` (a shop
saved: its domain, currency, taxness). ``recording.record`` is what they share. Each module's ``connect()`` connects
its receivers, with fixed ``dispatch_uid`` values; :func:`connect_receivers` (called from the app's ``ready()``)
connects them all.
"""
from shoop_mailchimp.receivers import (
    addresses,
    carts,
    configuration,
    contacts,
    groups,
    orders,
    prices,
    products,
    promos,
    shops,
    stock,
)

#: ``addresses`` first: the others look up the addresses it keys.
MODULES = (addresses, contacts, groups, orders, products, stock, prices, promos, carts, configuration, shops)


def connect_receivers():
    for module in MODULES:
        module.connect()
