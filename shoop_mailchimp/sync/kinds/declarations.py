"""The values a kind module declares for what the sync core does with its rows besides sending them (read through
:mod:`shoop_mailchimp.sync.kinds`, which re-exports them; the core names no kind).

``SYNC_EXISTING``: how "Sync existing" (:func:`shoop_mailchimp.sync.bulk.start`) sends the kind's objects never
sent, through batches; a kind without it is not sent by it.
"""
from dataclasses import dataclass
from typing import Callable

#: In the store's import: the store is marked ``is_syncing`` first, so Mailchimp starts no automation and sends no
#: order e-mail for what it brings (contacts, products).
IN_IMPORT = "in import"
#: In the store's import, only when the admin asks for the history too (orders: years of them).
HISTORY = "history"
#: Apart from the import, the store not marked syncing: what triggers no e-mail (promo rules and codes).
APART = "apart"

#: ``FOR_NEW_STORE``: how a store created again (after a disconnect deleted it, or found missing) gets the kind's
#: rows. Sent again keeping what the shop knows of Mailchimp's side (a contact's member: address, status, consent
#: last sent, tags: the audience stayed), the payload's fingerprint cleared.
KEEPING_MEMBER = "keeping member"
#: Sent again as never sent (a product, an order, a promo code: the new store has none).
AS_NEW = "as new"

#: ``ON_DOMAIN_CHANGE``: what the shop's domain changing does to the kind's rows (their payload names the
#: storefront). Every row queued again, keeping what Mailchimp holds: a payload that names no URL closes unchanged.
RESEND = "resend"
#: The rows Mailchimp holds (sent, or out with a worker now) written again, their fingerprint cleared (a cart's
#: restore link names the old domain and is no part of its fingerprint).
REWRITE_SENT = "rewrite sent"

#: ``AFTER_IMPORT = REWRITE_SENT``: the rows sent while the store was importing (``is_syncing``) are written again
#: once the import is done, as ``REWRITE_SENT`` says: Mailchimp started no automation for them (a cart's
#: abandoned-cart e-mail).


@dataclass(frozen=True)
class AdminItem:
    """``ADMIN``: how the admin names the kind (its line in the status page's counts) and a failed item of it (the
    failed list's label and link, and what the owner can do). ``model``: the shop's model of the kind's objects
    (``object_id``), linked to its admin page where Shuup's admin has one; ``label``: the item's name;
    ``advice``: one sentence with ``%(button)s``, the page's button that sends it again."""

    title: str
    model: type
    label: Callable
    advice: str
