"""Found by independent review aud46 (issue 19) of e87e05c, F2 (consent, data; fixed: a lost attempt's noted address
stays noted until a close learns where the member is): a retry of a lost first send whose contact corrected the address
overwrites the lost attempt's note before it sends (``ContactPlan.noted_before_sending``: ``{"move_sent_to":
self.email}`` because ``lost_move_to`` is set; ``drainer._note`` writes it over ``SyncState.move_sent_to``). When that
retry fails before its follow of the lost attempt is done (a transient 500 on its read of the noted address), the close
keeps the token and the notes (``state._close_row``: ``unknown``) -- but the note now names the corrected address, the
contact's own: the next retry's ``lost_move_to`` is "" (``_same(moved_to, self.email)``) and the member the lost first
send created at the mistyped address is never followed: it stays subscribed on the contact's consent, with her names, at
an address nobody of the shop has."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from tests.helpers import first_send_answer_lost, new_person, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("failed", [False, True], ids=["control-retry-succeeds", "retry-read-fails-once"])
def test_a_failed_retry_does_not_forget_the_lost_first_sends_address(
        shop, configuration, mailchimp_account, settings, failed):
    """Harm (consent + data): the owner of a mistyped address is subscribed to the shop's newsletter on Ann's consent,
    with Ann's names, for good; and Ann's later erasure leaves it too.

    Steps (single opt-in): Ann consents, her address mistyped (typo@); her first send creates the member there,
    subscribed, and its answer is lost (the row notes typo@). Ann corrects her address (ann@). Her retry notes ann@ over
    typo@ before sending, then its read of typo@ gets a 500 (transient): the row keeps a token and the note ann@. The
    next retry has no lost move to follow. Expected (control: the retry succeeds at once, ``_archive_lost_creation``):
    the member at typo@ is archived. Found: it stays subscribed with Ann's names."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    typo, right = "typo.aud46f2.%d@fastmail.com" % failed, "ann.aud46f2.%d@fastmail.com" % failed
    ann = new_person(permission=True, first_name="Ann", last_name="Typo", email=typo)
    first_send_answer_lost(emulator, api_key, list_id, typo)
    assert not row_of(ann).email and row_of(ann).move_sent_to == typo, "setup: a lost first send"
    assert emulator.get_member(api_key, list_id, typo)["status"] == "subscribed", "setup"
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = right
    ann.save()
    if failed:
        emulator.faults.fail("*/members/%s*" % subscriber_hash(typo), status=500, method="GET", times=1)
        send_due(rounds=1)
        emulator.faults.clear()
        row = row_of(ann)
        assert row.last_error and row.claimed_by, "setup: the retry failed, a lost attempt's row still (%r)" % (
            row.last_error,)
        assert emulator.get_member(api_key, list_id, typo)["status"] == "subscribed", "setup: typo@ not followed yet"
        assert row.move_sent_to == typo, "the lost first send's note (typo@) overwritten by the retry's (%r)" % (
            row.move_sent_to,)
    send_due(rounds=3)
    assert row_of(ann).email == right, "setup: Ann sent at her address"
    member = emulator.get_member(api_key, list_id, typo)
    assert member is None or member["status"] not in ("subscribed", "pending"), (
        "Nobody of the shop has %s; its member, created by Ann's lost first send, stays %s with %s (row note now "
        "%r)" % (typo, member["status"], member["merge_fields"], row_of(ann).move_sent_to))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("failed", [False, True], ids=["control-no-failed-retry", "retry-read-fails-once"])
def test_an_erasure_after_a_failed_retry_reaches_the_lost_first_sends_member(
        shop, configuration, mailchimp_account, settings, failed):
    """Harm (GDPR data loss): Ann deletes her account; the member her lost first send created at her mistyped address
    keeps her names (and her subscription) for good.

    Steps: as above, up to the failed retry (the note now names ann@, her corrected address); then Ann's account is
    deleted (erasure) before any further send. ``ErasePlan.noted_address`` is the row's ``move_sent_to`` = ann@ (no
    member there), so ``_delete_member_at_noted_address`` never reads typo@. Control: no retry failed in between (the
    note still names typo@): the erasure deletes the member there."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    typo, right = "typo.aud46f2e.%d@fastmail.com" % failed, "ann.aud46f2e.%d@fastmail.com" % failed
    ann = new_person(permission=True, first_name="Ann", last_name="Secretname", email=typo)
    first_send_answer_lost(emulator, api_key, list_id, typo)
    assert not row_of(ann).email and row_of(ann).move_sent_to == typo, "setup: a lost first send"
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = right
    ann.save()
    if failed:
        emulator.faults.fail("*/members/%s*" % subscriber_hash(typo), status=500, method="GET", times=1)
        send_due(rounds=1)
        emulator.faults.clear()
        assert row_of(ann).claimed_by and row_of(ann).move_sent_to == typo, "the lost first send's note overwritten"
    assert emulator.get_member(api_key, list_id, typo)["merge_fields"].get("LNAME") == "Secretname", "setup"
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, typo)
    assert member is None, "Ann was erased; the member her lost first send created at %s keeps her data: %r" % (
        typo, member and (member["status"], member["merge_fields"]))
