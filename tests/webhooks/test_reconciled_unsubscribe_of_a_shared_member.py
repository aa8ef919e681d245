"""Found by independent review aud56 (issue 19) of 243957f, F5 (fixed: a reconciliation applies a member's news to every
row of it; consent): a reconciliation applies a member's status to one row only (``reconciliation._apply_page``: ``by_id
= {row.unique_email_id: row}`` keeps the last row with the id; ``handle_event(..., states=[row])``). At an address
several contacts of the shop share, the other rows never learn the unsubscribe: ``handle_unsubscribe`` clears the
marketing permission of every contact with the address (a queryset update, nothing queued) but sets ``opt_in=False`` and
``member_status=unsubscribed`` on the one row. A row left with ``opt_in=True`` for a contact who no longer consents
sends a withdrawal (``consent.status_change``: unsubscribed) with its next change, long after: a signup the address's
owner made on Mailchimp's own form since is ended. The same unsubscribe told by the webhook reaches every row."""
import time

import pytest
from django.core.management import call_command
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("webhook", [True, False], ids=["control-unsubscribe-webhook", "unsubscribe-reconciled"])
def test_a_reconciled_unsubscribe_reaches_every_row_of_a_shared_member(
        configuration, mailchimp_account, settings, webhook):
    """Harm (consent): the owner of family@ unsubscribed, then signed up again on Mailchimp's own form; the shop
    unsubscribes that fresh signup when Vera (whose consent the owner's unsubscribe withdrew) edits her name.

    Steps: Vera and Carl (both consenting) share family@ (Vera's send created the member, subscribed). The owner
    unsubscribes in Mailchimp; the webhook is lost and a reconciliation learns it ("unsubscribe-reconciled"): both
    contacts' permission is withdrawn. The owner signs up again on the form (subscribe webhook delivered). Vera
    corrects her last name in the shop; the worker sends.

    Control ("control-unsubscribe-webhook", passes on 243957f): the unsubscribe's webhook is delivered instead of the
    reconciliation: every row learns it, and the rename leaves the owner's signup alone. Expected in both: family@
    stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud56f5@fastmail.com" % webhook
    vera = new_person(permission=True, email=family, first_name="Vera", last_name="One")
    send_due(rounds=2)
    carl = new_person(permission=True, email=family, first_name="Carl", last_name="Two")
    send_due(rounds=2)
    assert row_of(vera).opt_in and row_of(carl).opt_in, "setup"
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup"
    time.sleep(1.1)
    emulator.fire_event(api_key, list_id, "unsubscribe", family)
    if webhook:
        assert post_event(Client(), configuration, "unsubscribe", email=family).status_code == 200
    else:
        call_command("mailchimp_reconcile")
    send_due(rounds=2)
    assert not PersonContact.objects.get(pk=vera.pk).marketing_permission, "setup: Vera's consent withdrawn"
    assert not PersonContact.objects.get(pk=carl.pk).marketing_permission, "setup: Carl's consent withdrawn"
    time.sleep(1.1)
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Fam", "LNAME": "Owner"})
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    rows = (row_of(vera).opt_in, row_of(carl).opt_in)
    for person in (vera, carl):
        person = PersonContact.objects.get(pk=person.pk)
        person.last_name = person.last_name + "x"
        person.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after unsubscribing; a rename in the shop ended that "
        "signup: %r (rows' opt_in after the unsubscribe was learnt: %r)" % (family, member["status"], rows))
