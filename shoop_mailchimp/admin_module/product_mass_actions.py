"""Shuup's product list mass actions "Set visible" and "Set invisible", as Shuup runs them, then the
products they changed noted for Mailchimp: they update a queryset, which sends no signal, so a product hidden
this way would stay visible in Mailchimp's recommendations and product blocks.

Shuup runs the first mass action of the list whose identifier it is asked for, its own list before any
provided (``product_list_mass_actions_provider``): a provided action cannot replace one of Shuup's, only add a
second entry of the same name. So :mod:`shoop_mailchimp.admin_module.product_list` puts these in place of
Shuup's in the product list's own list, under the same identifiers and labels (see docs/products.rst).

Loaded by Shuup when the product list runs its mass actions (Shuup's module resolves a URL when imported).
"""
from django.db import transaction
from django.db.models import Q
from shuup.admin.modules.products import mass_actions
from shuup.admin.shop_provider import get_shop
from shuup.core.models import ShopProduct

from shoop_mailchimp.receivers.products import shop_products_updated


def _selected(request, ids):
    """The shop products the action changed, selected as Shuup's action selects them."""
    query = Q(shop=get_shop(request))
    if not (isinstance(ids, str) and ids == "all"):
        query &= Q(pk__in=ids)
    return ShopProduct.objects.filter(query)


class RecordingMixin:
    def process(self, request, ids):
        # The change and its record in one transaction, as a save's receivers make them.
        with transaction.atomic():
            super().process(request, ids)
            shop_products_updated(get_shop(request).pk, _selected(request, ids))


class VisibleMassAction(RecordingMixin, mass_actions.VisibleMassAction):
    pass


class InvisibleMassAction(RecordingMixin, mass_actions.InvisibleMassAction):
    pass
