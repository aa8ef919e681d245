"""Found by independent review aud29 (issue 19), F5 (data): a field the shop created, unmapped while a member write
built with the old mapping is out with a worker."""
import pytest
from shuup.core.models import ContactGroup

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.sync.jobs import run_due_jobs
from tests.admin.conftest import post_shop_form, saved
from tests.helpers import another_worker_held, make_all_due, new_person, send_due
from tests.sync.test_audience_data import read_audience_fields


def ann_in_a_group_the_shop_fills(admin_client, configuration, mailchimp_account, name):
    """Ann (``name``@fastmail.com), in the group "Regulars", sent; the shop created the merge field GROUPS and fills it
    with her groups: her member holds "Regulars" there."""
    emulator, api_key, list_id = mailchimp_account
    read_audience_fields(configuration)
    ann = new_person(first_name="Ann", last_name="Before", email="%s@fastmail.com" % name)
    ContactGroup.objects.create(identifier=name, shop=configuration.shop, name="Regulars").members.add(ann)
    assert saved(post_shop_form(admin_client, configuration.shop, create_merge_fields=["groups"]))
    run_due_jobs(configuration.shop_id)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, ann.email)["merge_fields"]["GROUPS"] == "Regulars", "setup"
    return ann


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("overlap", [False, True], ids=["control-no-send-out", "a-send-out-during-the-unmapping"])
def test_a_created_field_unmapped_while_a_write_is_out_is_still_cleared(
        worker_delivery, admin_client, configuration, mailchimp_account, overlap):
    """The shop created GROUPS and fills it ("Regulars"). Ann's last name is corrected; a worker builds her member
    PUT (GROUPS still mapped) and the request is slow. Meanwhile the admin unmaps GROUPS: the doc promises that every
    member written before the unmapping is sent GROUPS empty once (its last value would otherwise stay for good). The
    slow PUT lands with "Regulars" after the unmapping and its close stamps ``last_synced_at`` = now, later than the
    unmapping's moment: the re-send the unmapping queued then thinks the member was written after the unmapping
    (``merge_fields.clear_values`` compares ``last_synced_at``, the close time, not when the payload was built/claimed)
    and never clears it. Harm: the shop's stale GROUPS value stays on Ann's member for good (a marketer segmenting on
    the field, or reusing it, sees the shop's old data), and no later write ever clears it. Control: no send out: the
    field is cleared."""
    emulator, api_key, list_id = mailchimp_account
    ann = ann_in_a_group_the_shop_fills(admin_client, configuration, mailchimp_account, "ann.unmap.%d" % overlap)

    ann.last_name = "After"
    ann.save()
    make_all_due()
    def unmap_groups():
        assert saved(post_shop_form(admin_client, configuration.shop, merge_groups=""))

    with another_worker_held(emulator, "*/members/%s" % subscriber_hash(ann.email), "Ann's member PUT"):
        if overlap:
            unmap_groups()
    if not overlap:
        unmap_groups()
    send_due(rounds=3)

    fields = emulator.get_member(api_key, list_id, ann.email)["merge_fields"]
    assert fields["LNAME"] == "After", "setup: Ann's correction reached Mailchimp"
    assert fields["GROUPS"] == "", "the shop's last GROUPS value stays on Ann's member for good: %r" % fields["GROUPS"]

