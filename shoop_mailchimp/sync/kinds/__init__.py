"""One module per kind of object the shop sends. Each has ``KIND``, ``log_target(object_id)`` (the log entry
fields naming the object), ``load(configuration, rows)`` (what planning a slice of rows needs, in a few
queries) and ``plan(configuration, row, context)``, which
returns the row's Outcome when there is nothing to send, or a plan whose ``run(log)`` generator
yields :class:`~shoop_mailchimp.mailchimp.transport.Operation` objects, receives their answers (or
has their errors thrown in) and returns the Outcome. A plan only reads the database: what a send
teaches the shop travels in the Outcome and is written as the row closes.

A kind whose rows can go through Mailchimp batches (:mod:`shoop_mailchimp.sync.bulk`) also has
``BATCH_PHASES``, a tuple of :class:`~shoop_mailchimp.sync.batch_phase.BatchPhase` built from the
same plans; a plan says with ``batchable`` whether a batch can carry it.

A kind may also declare ``DEPENDS_ON`` (the kinds its operations name: their rows and batches go first) and
``IN_BURSTS`` (many rows due at once go through batches, :mod:`shoop_mailchimp.sync.bursts`).

What the sync core does with a kind's rows besides sending them is the kind's declaration too, read here (the
values are :mod:`~shoop_mailchimp.sync.kinds.declarations`'): ``SYNC_EXISTING`` (what "Sync existing" sends),
``FOR_NEW_STORE`` (what a store created again gets), ``ON_DOMAIN_CHANGE`` (what the shop's new domain sends again),
``AFTER_IMPORT`` (what the end of the store's import sends again) and ``ended_since_sent(shop_id)`` (objects
whose end passed with no save to say so: each reconciliation queues them).

``ADMIN`` (a :class:`~shoop_mailchimp.sync.kinds.declarations.AdminItem`) is how the admin names the kind and
a failed item of it.

A new kind is one module here plus its place in :data:`KINDS` (see docs/architecture.rst for the rest).
"""
from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.kinds import cart, contact, group, order, product, promo
from shoop_mailchimp.sync.kinds.declarations import (  # noqa: F401 (the declarations' values, for the core)
    APART,
    AS_NEW,
    HISTORY,
    IN_IMPORT,
    KEEPING_MEMBER,
    RESEND,
    REWRITE_SENT,
)

#: In delivery order: interests exist before members use them; customers and products exist before the
#: orders and carts that name them.
KINDS = (group, contact, product, order, cart, promo)
BY_KIND = {module.KIND: module for module in KINDS}

#: What every kind has: the drainer's calls and the admin's names (tests/test_structure.py checks each registered
#: kind has them).
DRAINER_NEEDS = ("KIND", "ADMIN", "log_target", "load", "plan")
#: What the batch path (:mod:`shoop_mailchimp.sync.bulk`, bursts) needs of a kind that has ``BATCH_PHASES``.
BATCH_NEEDS = ("BATCH_PHASES", "unsent_ids")


def sends_concurrently(kind_module):
    """Whether the drainer sends the kind's rows in DRAIN_CONCURRENCY threads (``SEND_CONCURRENTLY``)."""
    return getattr(kind_module, "SEND_CONCURRENTLY", False)


def before_close(kind_module, row, outcome):
    """The kind's ``before_close(row, outcome)``, if it has one, in the transaction a batch closes the row in
    (contacts: lock the contact whose consent the close withdraws)."""
    hook = getattr(kind_module, "before_close", None)
    if hook is not None:
        hook(row, outcome)


def after_close(kind_module, row, outcome, status, journal):
    """The kind's ``after_close(row, outcome, status, journal)``, if it has one: what a closed row does besides
    itself, on every path (contacts: the shop's consent withdrawn when the send found the person unsubscribed)."""
    hook = getattr(kind_module, "after_close", None)
    if hook is not None:
        hook(row, outcome, status, journal)


#: The kinds whose rows go through batches when many are due at once, in delivery order.
BURST_KINDS = tuple(module.KIND for module in KINDS if getattr(module, "IN_BURSTS", False))


def depends_on(kind):
    """The kinds whose rows and batches go before this kind's (``DEPENDS_ON``): what its operations name."""
    return getattr(BY_KIND[kind], "DEPENDS_ON", ())


def synced_existing(*how):
    """The kinds "Sync existing" sends in one of the ways ``how`` (``SYNC_EXISTING``), in delivery order."""
    return tuple(module.KIND for module in KINDS if getattr(module, "SYNC_EXISTING", None) in how)


def requeue_for_new_store(shop_id):
    """Send every row a store created again in the same audience lacks, as each kind declares (``FOR_NEW_STORE``):
    contacts keep what the shop knows of their member (a consent change made while disconnected is sent as a
    change, and a first send never re-subscribes anyone); products, orders and promo codes go as never sent.
    Returns how many rows were queued."""
    queued = 0
    for module in KINDS:
        how = getattr(module, "FOR_NEW_STORE", None)
        if how == KEEPING_MEMBER:
            queued += state.requeue_keeping_member(shop_id, module.KIND)
        elif how == AS_NEW:
            queued += state.requeue_all(shop_id, module.KIND)
    return queued


def history_being_sent(shop_id):
    """Whether rows of the kinds an import sends as history (``SYNC_EXISTING = HISTORY``: orders) are queued but
    never sent to the store: a re-created store's history, re-sent one by one (:func:`requeue_for_new_store`),
    is an import too, and the store stays ``is_syncing`` until it is in (an old order sent after that would mail
    its customer an order confirmation again)."""
    return SyncState.objects.filter(
        shop_id=shop_id, kind__in=synced_existing(HISTORY), status__in=(SyncStatus.PENDING, SyncStatus.SENDING),
        last_synced_at__isnull=True, erase=False).exists()


def follow_domain(shop_id):
    """The shop's storefront moved to another domain: what Mailchimp holds naming it is sent again, as each kind
    declares (``ON_DOMAIN_CHANGE``): product and picture URLs, promo codes' redemption links and orders' pages
    queued again (a payload that is the same closes unchanged, many go in batches); the carts Mailchimp holds
    written again with restore links to the new storefront."""
    for module in KINDS:
        how = getattr(module, "ON_DOMAIN_CHANGE", None)
        if how == RESEND:
            state.resend_all(shop_id, module.KIND)
        elif how == REWRITE_SENT:
            state.rewrite_sent(shop_id, module.KIND)


def record_ended(shop_id):
    """Queue the objects whose end passed since their last send with no save to say so (``ended_since_sent``:
    coupon campaigns that ended go out disabled)."""
    for module in KINDS:
        ended = getattr(module, "ended_since_sent", None)
        if ended is not None:
            state.record(shop_id, module.KIND, ended(shop_id))


def import_done(shop_id, sent_since):
    """The store's import is done (it notifies and automates again): the rows sent while it imported, since
    ``sent_since``, are written again where the kind declares it (``AFTER_IMPORT``: carts, whose automation starts
    now)."""
    for module in KINDS:
        if getattr(module, "AFTER_IMPORT", None) == REWRITE_SENT:
            state.rewrite_sent(shop_id, module.KIND, sent_since=sent_since)
