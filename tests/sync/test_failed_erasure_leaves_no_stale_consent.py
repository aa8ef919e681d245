"""Found by independent review aud50 (issue 19) of dff38ec, F1 (fixed: a partly refused erasure closes with the consent
it ended gone, ``ErasePlan.written``; the owner's subscribe webhook reaches erasure rows; consent):
``contact.made_by_a_consent_gone`` takes any row of the shop with ``consent_made=True, opt_in=True`` naming the address
as proof that the member's subscription is that row's consent's. An erasure that Mailchimp refuses in part (new in
dff38ec: ``ErasePlan._past_a_refusal``, the row closes FAILED) keeps its row's facts as they were: email,
``opt_in=True``, ``consent_made=True`` -- though the erasure DID end that subscription (the member unsubscribed).
Webhooks never update erased rows (``member_events.matching_states`` filters ``erase=False``), so a signup on
Mailchimp's own form since does not clear it either. A later erasure of the member's own contact
(``ErasePlan._delete_own_member``) then permanently deletes a subscription its owner made themselves."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import ann_erased_after_her_consent_subscribed_bobs_member, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("refused", [False, True], ids=["control-ann-erasure-done", "ann-erasure-refused-in-part"])
def test_a_failed_erasures_stale_consent_deletes_a_form_signup(configuration, mailchimp_account, settings, refused):
    """Harm (consent): Olga, who owns the family mailbox, subscribes on Mailchimp's own form (typing "Olga Real");
    the shop permanently deletes her subscription (and bars the address from the API for good) when it erases Bob.

    Steps: Bob (no consent, "Bob Hidden") is sent: his own transactional member at family@. Ann (consenting) is sent
    at ann0@ (her own member), then types family@: her member at ann0@ is left (members_left), her consent reaches
    Bob's member (Ann's row: foreign_member, consent_made). ("ann-erasure-refused-in-part": Mailchimp refuses every
    write of the member at ann0@, a 400.) Ann's account is deleted; the worker sends her erasure: family@ is
    unsubscribed (Bob does not consent), ann0@ refused -> Ann's row FAILED, still naming family@ with opt_in and
    consent_made. Olga then subscribes family@ on Mailchimp's form; the webhook reaches the shop. Bob's account is
    deleted; the worker sends his erasure.

    Control ("control-ann-erasure-done"): the same without the refusal: Ann's row closes SYNCED (email cleared), and
    Bob's erasure keeps the member ("its owner subscribed it"). Expected in both: Olga's subscription stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    bob, _ann, family, _ann0 = ann_erased_after_her_consent_subscribed_bobs_member(
        emulator, "%d.aud50f1@fastmail.com" % refused, refused)
    emulator.faults.clear()
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: Ann's consent ended"
    # Olga, the mailbox's owner, signs up on Mailchimp's own form.
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Olga", "LNAME": "Real"})
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: Olga subscribed"
    assert not row_of(bob).opt_in, "setup: Bob never consented"
    PersonContact.objects.get(pk=bob.pk).delete()  # erasure
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "Olga subscribed %s on Mailchimp's own form after Ann's erasure unsubscribed it; Bob's erasure deleted her "
        "subscription: %r" % (family, member and member["status"]))
