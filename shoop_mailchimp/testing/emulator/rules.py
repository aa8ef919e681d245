"""Mailchimp's behaviour that the OpenAPI description does not state, as named switches.

Every rule is on by default: the emulator is as strict as Mailchimp. A test may switch a rule off
for the whole emulator, for one account or for one audience (the most specific setting wins)::

    emulator.set_rule(rules.COMPLIANCE_STATE, False)                      # everywhere
    emulator.set_rule(rules.FAKE_EMAILS, False, api_key=key)              # one account
    emulator.set_rule(rules.MERGE_FIELDS, False, api_key=key, list_id=l)  # one audience

or over HTTP: ``POST /_emulator/rules {"rule": ..., "on": false, "api_key": ..., "list_id": ...}``.
Rules about stores are looked up with the store's audience. ``docs/emulator.rst`` has the table.
"""

#: An unsubscribed or cleaned member cannot be put back to ``subscribed`` (``pending`` is allowed).
COMPLIANCE_STATE = "compliance_state"
#: Member writes are checked against the audience's merge fields (required, types, unknown tags).
MERGE_FIELDS = "merge_fields"
#: At most 60 interests (groups) per audience, all categories together.
INTEREST_LIMIT = "interest_limit"
#: The operations of a batch run in a shuffled order, not in the order sent.
BATCH_SHUFFLE = "batch_shuffle"
#: Addresses that look fake (``docs/emulator.rst`` gives the exact rule) are refused.
FAKE_EMAILS = "fake_emails"
#: An order id is unique in the account, not only in its store.
ACCOUNT_ORDER_IDS = "account_order_ids"
#: Members of a GDPR audience carry its marketing permissions; other audiences have none.
MARKETING_PERMISSIONS = "marketing_permissions"
#: Order notifications and automations that would be sent are recorded (none while a store syncs).
NOTIFICATIONS = "notifications"
#: A customer's ``opt_in_status`` subscribes its member only when it turns from false to true.
CUSTOMER_OPT_IN = "customer_opt_in"

#: An order or cart naming a campaign the account does not have is refused.
CAMPAIGN_IDS = "campaign_ids"
#: A cart line cannot be deleted on its own (400): only its cart can.
CART_LINE_DELETE = "cart_line_delete"
#: A store created with a domain comes with its connected site (the store's id), unless the domain has one.
STORE_SITE = "store_site"
#: A cart PATCH's lines change or add the lines of those ids; a line left out stays in the cart.
CART_PATCH_KEEPS_LINES = "cart_patch_keeps_lines"

RULES = {
    COMPLIANCE_STATE: "unsubscribed or cleaned members cannot be subscribed again (400 Member In Compliance State)",
    MERGE_FIELDS: "member writes are checked against the audience's merge fields",
    INTEREST_LIMIT: "at most 60 interests per audience",
    BATCH_SHUFFLE: "batch operations run in a shuffled (seedable) order",
    FAKE_EMAILS: "fake-looking addresses are refused",
    ACCOUNT_ORDER_IDS: "order ids are unique per account, not per store",
    MARKETING_PERMISSIONS: "GDPR audiences give their members marketing permissions",
    NOTIFICATIONS: "order notifications and automations are recorded unless the store is syncing",
    CUSTOMER_OPT_IN: "opt_in_status subscribes a member only when it turns from false to true",
    CAMPAIGN_IDS: "an order or cart naming a campaign the account does not have is refused",
    CART_LINE_DELETE: "a cart line cannot be deleted on its own (400): only its cart can",
    STORE_SITE: "a store created with a domain comes with its connected site, unless the domain has one",
    CART_PATCH_KEEPS_LINES: "a cart PATCH changes or adds the lines it names; a line left out stays",
}


def check_names(names):
    names = set(names)
    unknown = sorted(names - set(RULES))
    if unknown:
        raise ValueError(f"Unknown emulator rule(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}")
    return names


def is_on(emulator, account, lst, rule):
    """The rule's setting for this audience, else for this account, else for the whole emulator."""
    for scope in (lst, account):
        if scope is not None and rule in scope.rules:
            return scope.rules[rule]
    return emulator.rules[rule]
