"""The words a shop owner reads for the log's action names.

The names themselves (``contact.sent``, ``webhook.unsubscribe``) stay stable: code, tests and
filters use them. An action missing here shows its name, so a new one is never hidden.
"""
from django.utils.translation import ugettext_lazy as _

ACTION_LABELS = {
    "contact.sent": _("Contact sent"),
    "contact.sync": _("Contact not sent"),
    "contact.skip": _("Contact left out"),
    "order.send": _("Order sent"),
    "order.sync": _("Order not sent"),
    "order.skip": _("Order left out"),
    "product.send": _("Product sent"),
    "product.hide": _("Product hidden in Mailchimp"),
    "product.delete": _("Product deleted in Mailchimp"),
    "product.sync": _("Product not sent"),
    "product.skip": _("Product left out"),
    "promo.send": _("Promo code sent"),
    "promo.delete": _("Promo code removed from Mailchimp"),
    "promo.sync": _("Promo code not sent"),
    "promo.skip": _("Promo code left out"),
    "group.sync": _("Contact group not sent"),
    "group.skip": _("Contact group left out"),
    "member.email": _("E-mail address changed"),
    "member.confirmation": _("Confirmation e-mail sent"),
    "member.marketing_permissions": _("GDPR permissions updated"),
    "member.tags": _("Tags updated"),
    "member.delete_permanent": _("Erased from the audience"),
    "customer.delete": _("Erased from the store"),
    "consent.withdrawn": _("Consent withdrawn"),
    "consent.kept": _("Consent kept"),
    "consent.given": _("Consent given at a checkout"),
    "storefront.subscribe": _("Subscribed in the storefront"),
    "storefront.unsubscribe": _("Unsubscribed in the storefront"),
    "interest.create": _("Group added to Mailchimp"),
    "interest.rename": _("Group renamed in Mailchimp"),
    "interest.delete": _("Group removed from Mailchimp"),
    "interest.missing": _("Group restored in Mailchimp"),
    "interest_category.missing": _("Group category restored in Mailchimp"),
    "interest.ensure": _("Groups prepared"),
    "initialize": _("Initialization"),
    "account.ping": _("API key checked"),
    "list.check": _("Audience checked"),
    "store.create": _("Store created"),
    "store.check": _("Store checked"),
    "store.resend": _("Store sent again"),
    "audience.move": _("Moved to another audience"),
    "sync.paused": _("Sending paused"),
    "sync.throttled": _("Mailchimp asked for a pause"),
    "bulk.submit": _("Bulk sync: batch sent"),
    "bulk.check": _("Bulk sync: batch checked"),
    "bulk.finish": _("Bulk sync: batch finished"),
    "bulk.lost": _("Bulk sync: batch lost, items queued again"),
    "bulk.store_syncing": _("Bulk sync: order e-mails held"),
    "webhook.register": _("Webhook registered"),
    "webhook.rotate": _("Webhook secret replaced"),
    "webhook.delete": _("Old webhook removed"),
    "webhook.subscribe": _("Subscribed in Mailchimp"),
    "webhook.unsubscribe": _("Unsubscribed in Mailchimp"),
    "webhook.profile": _("Profile updated in Mailchimp"),
    "webhook.upemail": _("E-mail changed in Mailchimp"),
    "webhook.cleaned": _("Address cleaned by Mailchimp"),
    "webhook.archived": _("Archived in Mailchimp"),
    "webhook.campaign": _("Campaign event from Mailchimp"),
    "webhook.stale": _("Old webhook event ignored"),
    "webhook.ignored": _("Webhook event for another audience"),
    "reconcile": _("Reconciliation with Mailchimp"),
    "reconcile.subscribe": _("Reconciliation: subscribed in Mailchimp"),
    "reconcile.unsubscribe": _("Reconciliation: unsubscribed in Mailchimp"),
    "reconcile.upemail": _("Reconciliation: e-mail changed in Mailchimp"),
    "reconcile.cleaned": _("Reconciliation: address cleaned by Mailchimp"),
    "reconcile.archived": _("Reconciliation: archived in Mailchimp"),
    "reconcile.stale": _("Reconciliation: older change ignored"),
    "reconcile.missing": _("Reconciliation: member gone, sent again"),
    "preview": _("Initialize preview"),
    "disconnect.request": _("Disconnect requested"),
    "disconnect": _("Disconnected from Mailchimp"),
    "reconnect": _("Connected again"),
    "store.delete": _("Store deleted"),
    "bulk.cancel": _("Bulk sync: batch stopped by the disconnect"),
    "site.confirm": _("New site confirmed"),
}


def action_label(action):
    return str(ACTION_LABELS.get(action, action))


def action_choices():
    """(name, label) pairs for the log's filter, by label."""
    return sorted(ACTION_LABELS.items(), key=lambda pair: str(pair[1]))
