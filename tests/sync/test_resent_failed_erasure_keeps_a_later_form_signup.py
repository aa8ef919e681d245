"""Found by independent review aud50 (issue 19) of dff38ec, F2 (fixed as F1; the "lost" webhook case is kept by
``ErasePlan.written`` alone; consent): an erasure Mailchimp refuses in part (new in dff38ec:
``ErasePlan._past_a_refusal``; the row closes FAILED after the other steps ran) keeps its row's facts of before the
erasure: the address, ``opt_in=True``, ``consent_made=True`` -- though its first step already ended that subscription
(the member unsubscribed). Webhooks never reach erased rows (``member_events.matching_states``: ``erase=False``), so a
signup the address's owner makes on Mailchimp's own form since leaves them so. The admin's "Resend all failed"
(``state.resend_failed``, as the failure message asks) runs the whole erasure again: ``plan`` decides ``withdraw`` from
the stale row (``subscribed_by_its_consent`` and ``consent_left_with``) and ``ErasePlan._keep_member`` unsubscribes the
owner's own subscription."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.sync import state
from tests.helpers import ann_erased_after_her_consent_subscribed_bobs_member, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("webhook", ["delivered", "lost"])
@pytest.mark.parametrize("refused", [False, True], ids=["control-ann-erasure-done", "ann-erasure-refused-in-part"])
def test_resending_a_failed_erasure_keeps_a_later_form_signup(configuration, mailchimp_account, settings, refused,
                                                              webhook):
    """Harm (consent): Bob's member at the family mailbox, which Olga subscribed herself on Mailchimp's own form, is
    unsubscribed by the shop when the admin resends Ann's failed erasure.

    Steps: Bob (no consent) is sent: his own transactional member at family@. Ann (consenting) is sent at ann0@, then
    types family@: her member at ann0@ is left, her consent subscribes (asks to confirm) Bob's member (Ann's row:
    foreign_member, consent_made). ("ann-erasure-refused-in-part": Mailchimp refuses every write of ann0@, a 400.)
    Ann's account is deleted; the worker sends the erasure: family@ unsubscribed (Bob does not consent), ann0@
    refused, Ann's row FAILED. Olga subscribes family@ on Mailchimp's form (its webhook delivered, or lost). Mailchimp
    lifts the
    refusal; the admin presses "Resend all failed"; the worker sends.

    Control ("control-ann-erasure-done"): nothing refused: Ann's erasure closes SYNCED; Olga subscribes; the admin's
    press finds nothing failed; Olga's subscription stays. Expected in both: it stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    bob, _ann, family, _ann0 = ann_erased_after_her_consent_subscribed_bobs_member(
        emulator, "%d%s.aud50f2@fastmail.com" % (refused, webhook), refused)
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: Ann's consent ended"
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Olga", "LNAME": "Real"})
    if webhook == "delivered":
        assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: Olga subscribed"
    emulator.faults.clear()  # the refusal is solved; the admin resends the failed items
    assert state.resend_failed(configuration.shop_id) == (1 if refused else 0)
    send_due(rounds=3)
    assert PersonContact.objects.filter(pk=bob.pk).exists() and not row_of(bob).opt_in
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "Olga subscribed %s on Mailchimp's own form after Ann's erasure had unsubscribed it; the resend of Ann's "
        "failed erasure ended her subscription: %r" % (family, member and member["status"]))
