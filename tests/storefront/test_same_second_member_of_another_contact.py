"""Found by independent review aud45 (issue 19) of fe40bd4, F1 (data loss) and F2 (consent); fixed: a member signed up
in a second another row of the shop was first claimed in is not taken for the contact's own (``signup_second_shared``):
a first send's noted address (``move_sent_to``) names the member another contact's send created in the same claim (both
rows first claimed in one ``state.claim``: the same ``first_claimed_at`` second, so the member carries the lost
attempt's signup time). Once that other contact has changed its address in the shop (its move not sent yet), "no other
contact has the address" holds and the stamp matches:

- the erasure deletes that contact's member for good (``ErasePlan._delete_member_at_noted_address`` calls
``created_by_an_earlier_attempt(member, row, False)``: stamps shared by another row are never considered, and only
contacts' current addresses count, not a row that still names the address); - a retry whose contact corrected its
address follows the first send's note as a "lost move" and archives that contact's member
(``ContactPlan._follow_lost_move`` -> ``_archive_lost_creation``: ``stamp_shared`` was computed by ``stamps_shared`` for
the contact's *current* address, not for ``lost_move_to``)."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncState
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, row_of, send_due

pytestmark = pytest.mark.django_db


def _claimed_together_a_lost(mailchimp_account, tag, together=True):
    """Ann and Bea (both consent) share a family address and are saved together: one claim takes both rows (the same
    first claim; without ``together``, the control: Bea is saved and first claimed a second later). Ann's member POST
    goes out and the connection breaks before Mailchimp handles it (unanswered: the row keeps its token and notes,
    ``move_sent_to`` the family address, and waits out its backoff); Bea's send, in the same round, creates the member
    at the family address, her names on it, signed up in that second."""
    emulator, api_key, list_id = mailchimp_account
    family = "family.aud45%s@fastmail.com" % tag
    ann = new_person(permission=True, first_name="Ann", last_name="Lost", email=family)
    if together:
        bea = new_person(permission=True, first_name="Bea", last_name="Owner", email=family)
    emulator.faults.reset_connection("*/lists/*/members", times=1)
    make_all_due()
    drain(max_rounds=1)
    emulator.faults.clear()
    if not together:
        time.sleep(1.1)
        SyncState.objects.filter(pk=row_of(ann).pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
        bea = new_person(permission=True, first_name="Bea", last_name="Owner", email=family)
        drain(max_rounds=1)  # Ann's row waits out its backoff
    ann_row, bea_row = row_of(ann), row_of(bea)
    assert (ann_row.first_claimed_at.replace(microsecond=0) == bea_row.first_claimed_at.replace(microsecond=0)) == (
        together), "setup"
    assert not ann_row.email and ann_row.move_sent_to == family and ann_row.claimed_by, "setup: Ann's attempt lost"
    assert bea_row.status == "synced" and bea_row.email == family, "setup: Bea's send created the member"
    member = emulator.get_member(api_key, list_id, family)
    assert member["merge_fields"].get("FNAME") == "Bea" and member["status"] in ("subscribed", "pending"), "setup"
    return ann, bea, family, member


def _bea_moves(bea, email):
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = email
    bea.save()


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("together", [False, True], ids=["control-claimed-a-second-apart", "claimed-together"])
def test_erasure_of_ann_never_deletes_beas_member(shop, configuration, mailchimp_account, settings, together):
    """Harm (data loss, permanent): Bea's member, with her subscription, tags and history, is permanently deleted by the
    erasure of Ann, whose lost first send never wrote anything; the family address is barred from the audience for good
    ("forgotten": the shop can never write it again).

    Steps: Ann and Bea share a family address, claimed together; Ann's first send is lost unwritten, Bea's creates the
    member. Bea changes her address to her own (her move is queued); Ann deletes her account (erasure) and the worker
    takes Ann's erasure first. Expected: Bea's member is not Ann's (Ann's send never reached Mailchimp), and it moves
    with Bea to her own address (control: the same steps, Bea's row first claimed a second after Ann's). Found: the
    erasure reads the family address Ann's send noted, finds the member signed up in Ann's first claim's second, takes
    it for Ann's own and deletes it permanently; Bea's move then creates a new member."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    ann, bea, family, member = _claimed_together_a_lost(mailchimp_account, "e%d" % together, together)
    own = "bea.aud45e%d@fastmail.com" % together
    _bea_moves(bea, own)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    send_due(rounds=3)
    moved = emulator.get_member(api_key, list_id, own)
    from shoop_mailchimp.models import MailchimpLogEntry
    erasure_log = list(MailchimpLogEntry.objects.filter(contact_id=ann.pk, action__startswith="member.").values_list(
        "message", flat=True))
    forgotten = subscriber_hash(family) in emulator.accounts[api_key].lists[list_id].forgotten
    assert not forgotten and moved is not None and moved["unique_email_id"] == member["unique_email_id"], (
        "Ann's erasure permanently deleted Bea's member (family address forgotten: %s); Bea's member at her own "
        "address now: %s (id %s, was %s); Ann's log: %s" % (
            forgotten, moved and moved["status"], moved and moved["unique_email_id"], member["unique_email_id"],
            erasure_log))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("together", [False, True], ids=["control-claimed-a-second-apart", "claimed-together"])
def test_anns_retry_never_archives_beas_member(shop, configuration, mailchimp_account, settings, together):
    """Harm (consent: Bea's own subscription ended; data): Bea, subscribed, is archived in Mailchimp by the retry of
    Ann's first send, which never wrote anything; Bea's member, moved to her new address, stays archived (no longer
    mailed), though she consents and never unsubscribed.

    Steps (single opt-in): Ann and Bea share a family address, claimed together; Ann's first send is lost unwritten
    (``move_sent_to`` the family address), Bea's creates the member (pending: the address is shared) and she confirms.
    Ann corrects her address to her own, and Bea changes hers to her own too; the worker takes Ann's retry first.
    Expected: Bea's member is hers, and it moves with her, subscribed (control: Bea's row first claimed a second after
    Ann's). Found: Ann's retry follows the first send's note as a lost move (``lost_move_to``), finds the member signed
    up in Ann's first claim's second, nobody of the shop at the address now, and archives it as Ann's lost creation
    (``_archive_lost_creation``)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    ann, bea, family, member = _claimed_together_a_lost(mailchimp_account, "r%d" % together, together)
    emulator.set_member_status(api_key, list_id, family, "subscribed")  # Bea confirms (the address is shared)
    ann_own, bea_own = "ann.aud45r%d@fastmail.com" % together, "bea.aud45r%d@fastmail.com" % together
    _bea_moves(ann, ann_own)
    _bea_moves(bea, bea_own)
    send_due(rounds=3)
    from shoop_mailchimp.models import MailchimpLogEntry
    ann_log = list(MailchimpLogEntry.objects.filter(contact_id=ann.pk, action__startswith="member.").values_list(
        "message", flat=True))
    at_own = emulator.get_member(api_key, list_id, bea_own)
    at_family = emulator.get_member(api_key, list_id, family)
    assert at_own is not None and at_own["status"] == "subscribed", (
        "Bea consents and never unsubscribed; her member at %s: %s (id %s, was %s); at the family address: %s; "
        "Ann's log: %s" % (bea_own, at_own and at_own["status"], at_own and at_own["unique_email_id"],
                           member["unique_email_id"], at_family and at_family["status"], ann_log))
