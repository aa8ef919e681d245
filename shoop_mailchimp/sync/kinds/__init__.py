"""One module per kind of object the shop sends. Each has ``KIND``, ``load(configuration, rows)`` (what
planning a slice of rows needs, in a few queries) and ``plan(configuration, row, context)``, which
returns the row's Outcome when there is nothing to send, or a plan whose ``run(log)`` generator
yields :class:`~shoop_mailchimp.mailchimp.transport.Operation` objects, receives their answers (or
has their errors thrown in) and returns the Outcome.

A new kind is one module here plus its place in :data:`KINDS`.
"""
from shoop_mailchimp.sync.kinds import contact, group, order

#: In delivery order: interests exist before members use them; customers exist before their orders.
KINDS = (group, contact, order)
BY_KIND = {module.KIND: module for module in KINDS}
