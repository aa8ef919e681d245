"""Disconnecting a shop from Mailchimp: sending stops, Mailchimp's webhook to the shop is deleted and,
when the admin confirmed it, so is the eCommerce store (with its customers, orders, products and carts).
The audience and its members stay: their consent is Mailchimp's record too.

The admin's request stops sending at once (:func:`stop_sending`, database only) and queues the
``DISCONNECT`` job; the drainer runs :func:`disconnect`. Changes made while disconnected are recorded as
ever and sent when Initialize reconnects the shop (see docs/disconnect.rst).
"""
from django.utils import timezone
from django.utils.translation import ugettext as _

from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import LogKind, MailchimpConfiguration
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.webhook_registration import webhook_url


def stop_sending(configuration, journal, delete_store):
    """Mark the shop disconnected (in the caller's transaction): the drainer sends nothing from now on.

    An import of history under way stays marked (``store_syncing``): its rows go back to the queue and are sent
    on reconnect, the store ``is_syncing`` again then (see :mod:`shoop_mailchimp.initialization`); meanwhile the
    disconnect tells Mailchimp that the store kept no longer imports (:func:`disconnect`)."""
    if configuration.disconnected_on is None:
        configuration.disconnected_on = timezone.now()
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
            disconnected_on=configuration.disconnected_on)
    if delete_store:
        message = _("Disconnect requested: sending to Mailchimp stopped; the webhook and the store %(store)s will be "
                    "deleted in Mailchimp, the audience and its members are kept.") % {"store": configuration.store_id}
    else:
        message = _("Disconnect requested: sending to Mailchimp stopped; the webhook will be deleted in Mailchimp, "
                    "the store, the audience and its members are kept.")
    journal.add("disconnect.request", message)


def disconnect(configuration, delete_store, journal):
    """Delete in Mailchimp what connects the shop to it. Returns ``(done, problems)``: sentences on what was
    deleted, and on what could not be (the shop stays disconnected either way)."""
    done, problems = [], []
    stopped = bulk.cancel_open_batches(configuration.shop_id, journal)
    mismatch = configuration.site_mismatch
    if mismatch is not None:
        problems.append(_("nothing was deleted in Mailchimp: %s") % mismatch)
        journal.add("disconnect", problems[-1], kind=LogKind.WARNING)
        return done, problems
    try:
        with open_session(configuration) as session:
            for batch_id in stopped:
                bulk.stop_in_mailchimp(session, batch_id, journal)
            _delete_webhooks(session, configuration, journal, done, problems)
            if delete_store:
                _delete_store(session, configuration, journal, done, problems)
            elif MailchimpConfiguration.objects.filter(pk=configuration.pk, store_syncing=True).exists():
                _end_store_syncing(session, configuration, journal, done, problems)
    except MailchimpError as error:  # the key itself is refused or unreadable: nothing could be asked
        journal.error("disconnect", error)
        problems.append(_("Mailchimp could not be asked to delete anything (%s)") % error)
    return done, problems




def _delete_webhooks(session, configuration, journal, done, problems):
    """The shop's webhook: the one it registered, and any other calling its URL. An audience deleted in Mailchimp
    (its webhook listing answers 404) took its webhooks with it: nothing is left to delete."""
    list_id = configuration.list_id
    try:
        webhook_ids = {configuration.webhook_id} - {""}
        found = resources.find_webhook(session, list_id, webhook_url(configuration))
        webhook_ids |= {found} - {None}
        deleted = [webhook_id for webhook_id in sorted(webhook_ids)
                   if resources.delete_webhook(session, list_id, webhook_id)]
    except MailchimpNotFound:
        _webhook_gone(configuration)
        message = _("the audience %s is gone from Mailchimp, and its webhooks with it: no webhook calls the "
                    "shop") % list_id
        journal.add("webhook.delete", message, kind=LogKind.WARNING, extra={"webhook_id": configuration.webhook_id})
        done.append(message)
        return
    except MailchimpError as error:
        journal.error("webhook.delete", error, extra={"webhook_id": configuration.webhook_id})
        problems.append(_("the webhook could not be deleted (%s): delete it in Mailchimp under Audience > "
                          "Settings > Webhooks") % error)
        return
    _webhook_gone(configuration)
    message = (_("Mailchimp no longer calls the shop's webhook") if deleted
               else _("Mailchimp had no webhook calling the shop"))
    journal.add("webhook.delete", message, extra={"webhook_ids": deleted})
    done.append(message)


def _webhook_gone(configuration):
    """No webhook of the shop is left in Mailchimp."""
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        webhook_id="", webhook_state="", webhook_problem="", webhook_checked_on=timezone.now())


def _delete_store(session, configuration, journal, done, problems):
    store_id = configuration.store_id
    try:
        session.delete(resources.store_path(store_id))
    except MailchimpNotFound:
        _store_deleted(configuration)
        message = _("the store %s was already gone from Mailchimp") % store_id
        journal.add("store.delete", message, kind=LogKind.WARNING)
        done.append(message)
        return
    except MailchimpError as error:
        journal.error("store.delete", error, extra={"store_id": store_id})
        problems.append(_("the store %(store)s could not be deleted (%(error)s)") % {"store": store_id, "error": error})
        return
    _store_deleted(configuration)
    message = _("the store %s was deleted from Mailchimp, with its customers, orders and products") % store_id
    journal.add("store.delete", message, extra={"store_id": store_id})
    done.append(message)


def _store_deleted(configuration):
    """No store of the shop is left in Mailchimp: another audience may be chosen now (see docs/disconnect.rst)."""
    configuration.store_deleted_on = timezone.now()
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        store_deleted_on=configuration.store_deleted_on, store_syncing=False, store_syncing_since=None)


def _end_store_syncing(session, configuration, journal, done, problems):
    """The import the disconnect stopped leaves the kept store ``is_syncing`` no longer: Mailchimp sends its order
    e-mails and starts its automations again, for as long as the shop stays disconnected. The configuration stays
    marked (``store_syncing``): the Initialize that reconnects marks the store again while the rest of the import
    is sent, and the rounds after it clear the mark once it is in. Not told, the problem says so: pressing
    Disconnect again tells it, and so does the reconnect."""
    store_id = configuration.store_id
    try:
        session.patch(resources.store_path(store_id), {"is_syncing": False})
    except MailchimpNotFound:
        _store_deleted(configuration)
        return
    except MailchimpError as error:
        journal.error("bulk.store_syncing", error, extra={"store_id": store_id})
        problems.append(_("Mailchimp could not be told that the store %(store)s no longer imports its history "
                          "(%(error)s), so it sends none of its order e-mails and starts none of its automations: "
                          "press Disconnect again to tell it (the reconnect tells it too)") % {
            "store": store_id, "error": error})
        return
    message = _("the store %s no longer imports its history: Mailchimp sends its order e-mails and starts its "
                "automations again") % store_id
    journal.add("bulk.store_syncing", message, extra={"store_id": store_id})
    done.append(message)


def run(configuration, delete_store, user=None):
    """The job's work: returns ``(succeeded, message)`` for the admin."""
    journal = Journal(configuration.shop_id, user=user)
    try:
        done, problems = disconnect(configuration, delete_store, journal)
        if problems:
            message = _("Disconnected in the shop (nothing is sent), but %(problems)s.") % {
                "problems": "; ".join(problems)}
        else:
            message = _("Disconnected: %(done)s. The audience and its members are kept; Initialize reconnects "
                        "the shop.") % {"done": "; ".join(done)}
        journal.add("disconnect", message, kind=LogKind.WARNING if problems else LogKind.INFO)
    finally:
        journal.flush()
    return not problems, message
