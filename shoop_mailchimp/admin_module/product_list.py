"""Shuup's product list runs the addon's "Set visible" and "Set invisible" (see
:mod:`shoop_mailchimp.admin_module.product_mass_actions`): called once, when the app is ready."""

SHUUP = "shuup.admin.modules.products.mass_actions:"
OURS = "shoop_mailchimp.admin_module.product_mass_actions:"
#: Shuup's product mass actions that change what Mailchimp shows without a signal. The others send signals
#: ("Edit products" saves each product and shop product) or change nothing (the CSV export).
REPLACED = {SHUUP + name: OURS + name for name in ("VisibleMassAction", "InvisibleMassAction")}


def use_in_product_list():
    """Put the addon's actions in place of Shuup's in the product list's mass actions (dotted names, loaded
    by Shuup when the list runs one)."""
    from shuup.admin.modules.products.views.list import ProductListView

    ProductListView.mass_actions = [REPLACED.get(action, action) for action in ProductListView.mass_actions]
