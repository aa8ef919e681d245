"""Found by independent review aud44 (issue 19) of 89842ba, F2 (consent; fixed: a send that noted an address learns its
member only with that address, ``state._member_learnt``): a move away from an address another contact of the shop keeps,
whose write at the new address is lost (a timeout), is closed as if its answer had come: ``state._close_row`` keeps a
lost attempt's token and ``consent_unanswered`` only while ``"member_status" not in written``, and this send's
``written`` holds a member status learnt of the *old* address (``ContactPlan.run``, the ``previous_shared`` branch:
``unsubscribe_kept_member`` left there, ``self.written = {"member_status": left, ...}``). The row drops its token and
note, never learns the new address (``email`` is not in ``written``), and the member the lost POST created subscribed at
the new address is no longer anyone's to unsubscribe: the contact's later withdrawal is sent as nothing."""

import pytest
from shuup.core.models import PersonContact

from tests.helpers import moved_off_a_shared_address, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "new-address-answer-lost"])
def test_withdrawal_after_a_move_off_a_shared_address_whose_new_member_answer_was_lost(
        shop, configuration, mailchimp_account, settings, lost):
    """Paul (consents) and Queenie (does not) share a family address; the member there is subscribed on Paul's consent.
    Paul changes his address to his own: his send unsubscribes the family member (his consent leaves with him, Queenie
    never consented) and creates his new member, subscribed; that POST lands and its answer is lost. Paul then unticks
    the newsletter box. Expected: his new member is unsubscribed (control: the POST answered, the same untick
    unsubscribes it). Found: it stays subscribed for good; the row forgot the lost attempt because it had learnt the
    family member's status."""

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    family = "family.aud44shared.%d@fastmail.com" % lost
    own = "paul.aud44shared.%d@fastmail.com" % lost
    paul, queenie = moved_off_a_shared_address(mailchimp_account, family, own, lost)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed", "setup: Paul's new member"
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: his consent left"
    moved = row_of(paul)
    if lost:
        assert moved.email == family, "setup: the row never learnt the new address"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = False
    paul.save()
    send_due(rounds=3)
    row = row_of(paul)
    status = emulator.get_member(api_key, list_id, own)["status"]
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    assert status not in ("subscribed", "pending"), (
        "Paul withdrew his consent and his member at %s stays %s (row after the move: email %r, member_status %r, "
        "claimed_by %r, consent_unanswered %r, status %s; now: email %r, opt_in %s, status %s)" % (
            own, status, moved.email, moved.member_status, moved.claimed_by, moved.consent_unanswered, moved.status,
            row.email, row.opt_in, row.status))
