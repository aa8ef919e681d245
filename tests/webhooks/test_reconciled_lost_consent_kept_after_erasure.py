"""Found by independent review aud57 (issue 19) of dcc101d, F2 (fixed: a reconciliation's subscribe no longer ends the
consent a lost attempt carried on a waiting erasure; consent): a reconciliation pass run while an erasure waits keeps
the erased contact's subscription.

Harm: Vera (who proved family@ hers: she clicked the activation link) ticked the newsletter box; the member PUT
subscribed family@ but its answer was lost (the row notes ``consent_unanswered``, a lost attempt's token is kept). Her
account is deleted (erasure waits for the worker). A routine reconciliation pass runs before the worker: it sees family@
``subscribed`` while Carl's row (Carl shares family@, no consent) still says ``transactional``, and synthesizes a
``subscribe`` event (``reconciliation._apply_member`` -> ``handle_event(..., source="reconcile")``).
``member_events.handle_subscribe`` -> ``_erasures_learn(..., lost_facts={"opt_in": None, "consent_unanswered": ""})``
takes that event for the address owner's own signup and wipes the lost attempt's consent on the erasure row (its claim
came before the member's ``last_changed``). The erasure then finds no consent of Vera's to end (``consent_left_with(...,
carried=lost_consent(row))`` is False) and leaves family@ subscribed: mail goes on to the address on the consent of a
person who was erased, and nobody else (Carl does not consent) ever gave one. The subscription Mailchimp reports is the
shop's own write; the shop's webhook takes no "api" source events, so nothing but the reconciliation's diff ever "told"
it, and a status diff says nothing about who subscribed.

Steps: single opt-in. Vera (no consent, proven address) is sent: her own member at family@. Carl (no consent) is added
with family@ and sent. Vera ticks the box: the PUT lands subscribed, its answer lost (TIMEOUT=2). Vera is deleted
(DELIVERY=worker: the erasure waits). ``mailchimp_reconcile`` runs (``reconcile``). The worker sends.

Control (``control-no-reconcile``, passes): the same without the reconciliation pass: the erasure unsubscribes family@
(Vera's lost consent carried it, Carl does not consent). Expected in both: family@ unsubscribed."""
import time

import pytest
from django.core.management import call_command
from shuup.core.models import PersonContact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import MailchimpConfiguration
from tests.helpers import consent_answer_lost, new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("reconcile", [False, True], ids=["control-no-reconcile", "reconcile"])
def test_a_reconciliation_keeps_an_erased_contacts_lost_consent_subscription(
        configuration, mailchimp_account, settings, reconcile):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(double_opt_in=False)
    family = "family.%d.aud57f2@fastmail.com" % reconcile
    vera = new_person(permission=False, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    carl = new_person(permission=False, email=family, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    shop_consent.record_proof(vera.pk, family)
    send_due(rounds=2)
    vera = consent_answer_lost(mailchimp_account, vera, True)
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: Vera's consent landed"
    row = row_of(vera)
    assert row.consent_unanswered == "subscribed" and not row.foreign_member, "setup: a lost attempt of Vera's own"
    assert row_of(carl).member_status == "transactional", "setup: Carl's row never saw the subscription"
    PersonContact.objects.get(pk=vera.pk).delete()  # the erasure waits for the worker
    if reconcile:
        time.sleep(1.1)
        call_command("mailchimp_reconcile")
    send_due(rounds=3)
    assert row_of(vera).member_status == "erased", "setup: the erasure ran"
    assert not PersonContact.objects.get(pk=carl.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, family)
    assert member["status"] == "unsubscribed", (
        "Vera, whose consent subscribed %s, was erased and Carl never consented; the address stays %r "
        "(erasure row after the pass: opt_in=%r consent_unanswered=%r)" % (
            family, member["status"], row_of(vera).opt_in, row_of(vera).consent_unanswered))
