"""Found by independent review aud51 (issue 19) of f3e1d45, F2 (fixed: an erasure done at the contact's and noted
addresses closes naming no address, ``ErasePlan.written``; consent): a partly refused erasure closes FAILED with
``ErasePlan._what_was_done`` (``opt_in=None, consent_made=False``: the consent it ended is gone from the row), so that a
resend never ends a signup the address's owner made since (aud50 F2). But when the erased row was a lost attempt's
(recovered: its consent's answer lost, ``SyncState.consent_unanswered`` noted), the failed close keeps its token and its
notes (``state._close_row``: ``unknown`` -> ``token_kept``, ``written`` without ``answered``): the resend's claim is
recovered again and ``lost_consent(row)`` is still True, so ``plan`` computes ``withdraw`` from ``consent_left_with(...,
carried=True)`` and ``ErasePlan._keep_member`` unsubscribes the signup the address's owner made on Mailchimp's own form
after the first attempt had already withdrawn that consent."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import state
from tests.helpers import consent_answer_lost, new_person, refused_for_good, row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, True], ids=["control-consent-answered", "consent-answer-lost"])
def test_resending_a_failed_erasure_of_a_lost_consent_ends_a_later_form_signup(
        configuration, mailchimp_account, django_user_model, settings, lost):
    """Harm (consent): Queenie subscribes the family mailbox herself on Mailchimp's own form; the admin's "Resend
    failed" of Paul's erasure unsubscribes her.

    Steps: Cal is added; Paul registers at paul0@ (his own member), types Cal's address (his member at paul0@ is
    left: members_left), then family@ (his own member there). Queenie (no consent) is added with family@ (shared).
    Paul ticks the newsletter box: the member PUT lands subscribed, its answer is lost ("consent-answer-lost"; the
    control: answered). Mailchimp refuses every write of paul0@ (400). Paul's account is deleted; the worker sends the
    erasure: family@ unsubscribed (Queenie does not consent), paul0@ refused, the row FAILED. Queenie subscribes
    family@ on Mailchimp's form (webhook delivered). The refusal is lifted; the admin resends the failed rows; the
    worker sends.

    Control ("control-consent-answered"): the same with Paul's consent answered: the resend keeps Queenie's
    subscription (f3e1d45's ``_what_was_done``). Expected in both: family@ stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    tag = "%d.aud51f2@fastmail.com" % lost
    paul0, cal, family = "paul0." + tag, "cal." + tag, "family." + tag
    paul_user, paul = bea_leaves_her_member(configuration.shop, django_user_model, "paul51f2%d" % lost, paul0, cal,
                                            last_name="Private")
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.email = family
    paul.save()
    send_due(rounds=3)
    queenie = new_person(permission=False, email=family, first_name="Queenie", last_name="Real")
    send_due(rounds=2)
    row = row_of(paul)
    assert [m["email"] for m in row.members_left] == [paul0] and row.email == family, "setup: %r" % (
        (row.email, row.members_left),)
    assert not row.foreign_member, "setup: Paul's own member at family@"
    paul = consent_answer_lost(mailchimp_account, paul, lost, writes_before=1)
    assert emulator.get_member(api_key, list_id, family)["status"] in ("subscribed", "pending"), "setup"
    refused_for_good(emulator, paul0)
    get_person_contact(paul_user).delete()  # erasure
    send_due(rounds=3)
    row = row_of(paul)
    assert row.status == SyncStatus.FAILED, "setup: %s %s" % (row.status, row.last_error)
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: Paul's consent ended"
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Queenie", "LNAME": "Real"})
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: Queenie subscribed"
    emulator.faults.clear()
    assert state.resend_failed(configuration.shop_id) == 1
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "Queenie subscribed %s on Mailchimp's own form after Paul's erasure had unsubscribed it; the resend of the "
        "failed erasure ended her subscription: %r (row: opt_in=%r consent_unanswered=%r)" % (
            family, member and member["status"], row_of(paul).opt_in, row_of(paul).consent_unanswered))
