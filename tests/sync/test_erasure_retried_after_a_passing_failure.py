"""Found by independent review aud51 (issue 19) of f3e1d45, F3 (fixed: what an unfinished erasure did is its row's,
whatever stopped it, ``ErasePlan.written``; consent): ``ErasePlan._what_was_done`` clears the consent an erasure already
ended (``opt_in=None, consent_made=False``) only when a member's step is refused for good (a 400, ``_past_a_refusal``).
A passing failure (a 5xx, a timeout) of a LATER step -- the member the contact left, the noted address, the customer --
after the step at the contact's address unsubscribed the shared member is re-raised: the drainer closes the row for a
retry with ``plan.written`` (ErasePlan has none: ``{}``), so the row keeps ``opt_in=True``. The ``subscribe`` webhook
that reaches the erasure row (f3e1d45) clears only ``consent_made``: the retry's ``plan`` still computes ``withdraw =
shared and consent_left_with(row)`` from ``opt_in`` and ``ErasePlan._keep_member`` unsubscribes the signup the address's
owner made on Mailchimp's own form meanwhile."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import state
from tests.helpers import new_person, refused_for_good, row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def paul_shares_his_member_with_queenie(configuration, django_user_model, username, tag):
    """Paul ("Paul Private") leaves his member at paul0.TAG (:func:`bea_leaves_her_member`), then types family.TAG and
    consents: his own member there, subscribed. Queenie (no consent) is added with family.TAG: the member is hers too.
    Returns (Paul's user, Paul, Queenie, paul0.TAG, family.TAG)."""
    paul0, cal, family = "paul0." + tag, "cal." + tag, "family." + tag
    paul_user, paul = bea_leaves_her_member(configuration.shop, django_user_model, username, paul0, cal,
                                            last_name="Private")
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.email = family
    paul.marketing_permission = True
    paul.save()
    send_due(rounds=3)
    queenie = new_person(permission=False, email=family, first_name="Queenie", last_name="Real")
    send_due(rounds=2)
    row = row_of(paul)
    assert [m["email"] for m in row.members_left] == [paul0] and row.email == family, "setup"
    assert not row.foreign_member and row.opt_in, "setup: Paul's own member at family@, his consent sent"
    return paul_user, paul, queenie, paul0, family


@pytest.mark.parametrize("status", [400, 503], ids=["control-refused-for-good", "passing-failure"])
def test_an_erasure_retried_after_a_passing_failure_ends_a_later_form_signup(
        configuration, mailchimp_account, django_user_model, settings, status):
    """Harm (consent): Queenie subscribes the family mailbox herself on Mailchimp's own form (the shop's webhook
    receives it); the shop's retry of Paul's erasure unsubscribes her.

    Steps: Cal is added; Paul (consenting) registers at paul0@ (his own member), types Cal's address (his member at
    paul0@ is left: members_left), then family@ (his own member there, subscribed). Queenie (no consent) is added
    with family@ (shared). Mailchimp fails every request about paul0@ ("passing-failure": 503, Service Unavailable).
    Paul's account is deleted; the worker sends the erasure: family@ is unsubscribed (Queenie does not consent), then
    paul0@ fails: the row is left to retry. Queenie subscribes family@ on Mailchimp's form (webhook delivered).
    Mailchimp is well again; the admin presses "Resend failed" (a no-op for a row still pending); the worker sends.

    Control ("control-refused-for-good"): the same with a 400 on paul0@: the row closes FAILED with what was done
    (f3e1d45), and the resend keeps Queenie's subscription. Expected in both: family@ stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    paul_user, paul, queenie, paul0, family = paul_shares_his_member_with_queenie(
        configuration, django_user_model, "paul51f3%d" % status, "%d.aud51f3@fastmail.com" % status)
    assert emulator.get_member(api_key, list_id, family)["status"] in ("subscribed", "pending"), "setup"
    emulator.faults.fail_email(paul0, status=status, title="Invalid Resource" if status == 400 else
                               "Service Unavailable", detail="This member cannot be edited or deleted.")
    get_person_contact(paul_user).delete()  # erasure
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: Paul's consent ended"
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Queenie", "LNAME": "Real"})
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: Queenie subscribed"
    emulator.faults.clear()
    state.resend_failed(configuration.shop_id)
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, family)
    row = row_of(paul)
    assert member is not None and member["status"] == "subscribed", (
        "Queenie subscribed %s on Mailchimp's own form after Paul's erasure had unsubscribed it; the erasure's next "
        "attempt ended her subscription: %r (row %s: opt_in=%r consent_made=%r)" % (
            family, member and member["status"], row.status, row.opt_in, row.consent_made))


@pytest.mark.parametrize("refused", ["member-left", "customer"], ids=["control-member-left-refused",
                                                                   "customer-delete-refused"])
def test_an_erasure_whose_customer_delete_is_refused_ends_a_later_form_signup(
        configuration, mailchimp_account, django_user_model, settings, refused):
    """Harm (consent): as above, through the customer's delete: ``ErasePlan.run`` deletes the customer outside
    ``_past_a_refusal``; a 400 there propagates, the row closes FAILED with ``facts={}`` (``opt_in=True``,
    ``consent_made`` as before), and the admin's resend (as the failure message asks) unsubscribes Queenie's own
    signup.

    Steps: as above; Mailchimp refuses the DELETE of Paul's store customer for good (400) ("customer-delete-refused").
    Paul's account is deleted; the worker sends: family@ unsubscribed, the customer refused, the row FAILED. Queenie
    subscribes on Mailchimp's form (webhook delivered). The refusal is lifted; the admin resends the failed rows.

    Control ("control-member-left-refused"): a 400 on paul0@ instead (f3e1d45's ``_what_was_done``): Queenie's
    subscription stays. Expected in both: it stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    paul_user, paul, queenie, paul0, family = paul_shares_his_member_with_queenie(
        configuration, django_user_model, "paul51f3c%s" % refused, "%s.aud51f3c@fastmail.com" % refused)
    if refused == "customer":
        emulator.faults.fail("*/customers/*", status=400, method="DELETE", title="Invalid Resource",
                             detail="The customer cannot be deleted.")
    else:
        refused_for_good(emulator, paul0)
    get_person_contact(paul_user).delete()  # erasure
    send_due(rounds=2)
    assert row_of(paul).status == SyncStatus.FAILED, "setup: %s" % row_of(paul).last_error
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: Paul's consent ended"
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Queenie", "LNAME": "Real"})
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    emulator.faults.clear()
    assert state.resend_failed(configuration.shop_id) == 1
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "Queenie subscribed %s on Mailchimp's own form after Paul's erasure had unsubscribed it; the resend ended "
        "her subscription: %r" % (family, member and member["status"]))
