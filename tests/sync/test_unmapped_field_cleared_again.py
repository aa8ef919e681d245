"""Found by independent review aud34 (issue 19), F4 (data): a first fix of aud29 F5 compared an unmapping with when
the row's tags were last compared, which a send whose customer step failed after its member write (the one-time clear
carried) does not record: its retry cleared the field again, over a marketer's new value. The row records when its
member's last write was built (``SyncState.member_written_from``), also when a later step fails."""
import pytest

from shoop_mailchimp.mailchimp.members import subscriber_hash
from tests.admin.conftest import post_shop_form, saved
from tests.helpers import row_of, send_due
from tests.sync.test_unmapping_while_a_send_is_out import ann_in_a_group_the_shop_fills

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("customer_fails", [False, True], ids=["control-customer-written", "customer-put-fails"])
def test_a_field_reused_by_the_marketer_is_not_cleared_again_after_a_failed_customer_step(
        admin_client, configuration, mailchimp_account, customer_fails):
    """Harm (data loss): the marketer's own value in a merge field the shop created and unmapped is wiped by the
    shop, after the shop already cleared its own value there (the doc: "sent empty once; later writes leave it
    alone").

    Steps: the shop created GROUPS and fills it ("Regulars") on Ann's member. The admin unmaps GROUPS, and Ann's
    last name is corrected: the send writes Ann's member with GROUPS empty (the clear lands), but its customer PUT
    fails (a 500 of the store API):
    the row closes with the member write's facts only (``written_facts``), and ``tags_compared_at`` keeps the claim
    time of the send before the unmapping. The marketer now uses GROUPS for something else ("by hand" on Ann's
    member). The row's retry (or any later send while the customer step keeps failing) builds the member again with
    ``clear_values(facts.clears, row.tags_compared_at or row.last_synced_at)`` (ContactPlan.__init__): the stale
    ``tags_compared_at`` is older than the unmapping, so GROUPS is sent empty again and the marketer's value is
    gone. Control: the customer PUT succeeds the first time; the marketer's value stays."""
    emulator, api_key, list_id = mailchimp_account
    ann = ann_in_a_group_the_shop_fills(admin_client, configuration, mailchimp_account, "ann.reuse.%d" % customer_fails)

    if customer_fails:
        emulator.faults.fail("*/customers/%d" % ann.pk, status=500, method="PUT", times=1)
    assert saved(post_shop_form(admin_client, configuration.shop, merge_groups=""))
    ann.last_name = "After"  # her name is corrected too: the same send writes her customer
    ann.save()
    send_due(rounds=1)
    assert emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["GROUPS"] == "", "setup: cleared once"
    # The marketer uses the field for something else now.
    with emulator.lock:
        emulator.accounts[api_key].lists[list_id].members[subscriber_hash(ann.email)]["merge_fields"][
            "GROUPS"] = "by hand"
    state = (row_of(ann).status, row_of(ann).tags_compared_at, row_of(ann).attempts)
    send_due(rounds=3)
    fields = emulator.get_member(api_key, list_id, ann.email)["merge_fields"]
    assert fields["GROUPS"] == "by hand", (
        "the shop cleared the marketer's own GROUPS value again (row after the failed send: status, "
        "tags_compared_at = %r): %r" % (state, fields["GROUPS"]))
