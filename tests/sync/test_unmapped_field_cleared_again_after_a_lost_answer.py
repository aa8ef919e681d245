"""Found by independent review aud35 (issue 19), F5 (data; open, a strict expected failure): the one-time clear of an
unmapped created field is sent again after its write's answer was lost. Left so on purpose: the retry cannot tell
whether the lost write landed, and not clearing again would leave the shop's stale value on the member for good when it
did not; a marketer reusing the field in the seconds between the lost answer and the retry loses their value."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.sync.drainer import drain
from tests.admin.conftest import post_shop_form, saved
from tests.helpers import make_all_due, row_of, send_due, wait_for
from tests.sync.test_unmapping_while_a_send_is_out import ann_in_a_group_the_shop_fills

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, pytest.param(True, marks=pytest.mark.xfail(strict=True, reason=(
    "open (aud35 F5): a retry after a lost answer clears the field again")))],
    ids=["control-answered", "member-put-answer-lost"])
def test_a_field_reused_by_the_marketer_is_not_cleared_again_after_a_lost_answer(
        admin_client, configuration, mailchimp_account, settings, lost):
    """Harm (data loss): the marketer's own value in a merge field the shop created and unmapped is wiped by the
    shop after the shop's one-time clear already landed (docs: "sent empty once; later writes leave it alone").

    Steps: the shop created GROUPS and fills it ("Regulars") on Ann's member. The admin unmaps GROUPS; Ann's last
    name is corrected: the send's member PUT carries GROUPS "" and lands, but its answer is lost (a read timeout).
    The row is retried later (``member_written_from`` was not recorded: no answer, ``sent_outcome``/``written_facts``
    never ran). Meanwhile the marketer reuses GROUPS on Ann's member ("by hand"). The retry's
    ``clear_values(facts.clears, row.member_written_from or row.last_synced_at)`` still compares the last write
    before the unmapping: GROUPS is sent empty again. (Recording the claim before a member PUT that carries a clear,
    or a retry recognising its own landed write, would keep it.) Control: the answer comes back."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    emulator, api_key, list_id = mailchimp_account
    ann = ann_in_a_group_the_shop_fills(admin_client, configuration, mailchimp_account, "ann.lost.%d" % lost)

    assert saved(post_shop_form(admin_client, configuration.shop, merge_groups=""))
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.last_name = "After"
    ann.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members/*", method="PUT", times=1)  # its answer never comes
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["LNAME"] == "After",
             "the write reaching Mailchimp")
    emulator.faults.clear()
    assert emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["GROUPS"] == "", "setup: cleared once"
    with emulator.lock:
        emulator.accounts[api_key].lists[list_id].members[subscriber_hash(ann.email)]["merge_fields"][
            "GROUPS"] = "by hand"
    state = (row_of(ann).status, row_of(ann).member_written_from, row_of(ann).last_error[:80])
    send_due(rounds=3)
    fields = emulator.get_member(api_key, list_id, ann.email)["merge_fields"]
    assert fields["GROUPS"] == "by hand", (
        "the shop cleared the marketer's own GROUPS value again (row after the lost answer: %r): %r" % (
            state, fields["GROUPS"]))
