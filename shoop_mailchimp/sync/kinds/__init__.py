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

A new kind is one module here plus its place in :data:`KINDS`.
"""
from shoop_mailchimp.sync.kinds import cart, contact, group, order, product, promo

#: In delivery order: interests exist before members use them; customers and products exist before the
#: orders and carts that name them.
KINDS = (group, contact, product, order, cart, promo)
BY_KIND = {module.KIND: module for module in KINDS}

#: What the drainer calls on every kind (tests/test_structure.py checks each registered kind has them).
DRAINER_NEEDS = ("KIND", "log_target", "load", "plan")
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
