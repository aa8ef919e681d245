"""A send out with a worker while the shop moves to another audience (disconnect deleting the store, Initialize with
the new audience: ``forget_audience``) closes after the rows were forgotten. What it read and wrote is the old
audience's: none of it may become the row's facts of the new audience, nor stop the shop."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form
from tests.disconnect.helpers import disconnect_and_delete_the_store, move_to_another_audience
from tests.helpers import another_worker_held, make_all_due, new_person, row_of, send_due


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("withdrawn", [False, True], ids=["consenting", "consent-withdrawn-meanwhile"])
@pytest.mark.parametrize("overlap", [False, True], ids=["control-sent-before-the-move", "out-during-the-move"])
def test_a_first_send_out_during_a_move_to_another_audience_leaves_no_old_fact_on_the_row(
        worker_delivery, admin_client, connected, mailchimp_account, overlap, withdrawn):
    """Ann is saved; a worker takes her first send, writes her member in the old audience, and its customer PUT is
    slow. Meanwhile the shop owner disconnects (deleting the store) and initializes with a new audience: every row
    is forgotten (no address, member status, member id of the old audience) and queued for the new one. Expected:
    once the queue is empty, Ann is a subscribed member of the new audience with her name, her row names that
    member, and the shop sends (the control: the first send ended before the move). Ann withdrawing her consent
    while the send is out (the send's customer PUT carries the consent of its claim) ends unsubscribed there."""
    emulator, api_key, list_id = mailchimp_account
    ann = new_person(first_name="Ann", last_name="Mover")
    make_all_due()

    def the_owner_moves_the_shop():
        disconnect_and_delete_the_store(admin_client, connected, emulator)  # worker 2: the deletions
        new_list = emulator.add_list(api_key, name="New audience")
        assert post_shop_form(admin_client, connected.shop, list_id=new_list, initialize="1").status_code == 302
        run_due_work()  # worker 2: the Initialize (not its sends: worker 1 still holds Ann's row)
        configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
        assert configuration.list_id == new_list and configuration.is_active, "setup: initialized in the new audience"
        if withdrawn:
            ann.marketing_permission = False
            ann.save()
        return new_list

    with another_worker_held(emulator, "*/customers/%d" % ann.pk, "Ann's customer PUT (worker 1)"):
        assert emulator.get_member(api_key, list_id, ann.email), "setup: Ann's member written in the old audience"
        if overlap:
            other_list = the_owner_moves_the_shop()
    if not overlap:
        other_list = the_owner_moves_the_shop()
    send_due(rounds=4)

    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.is_active and not configuration.paused_reason, (
        "the shop stopped sending: %r" % configuration.paused_reason)
    member = emulator.get_member(api_key, other_list, ann.email)
    row = row_of(ann)
    assert member is not None, "Ann never reached the new audience (row: %s, %r)" % (row.status, row.last_error)
    assert (member["status"], member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "unsubscribed" if withdrawn else "subscribed", "Ann", "Mover"), member
    assert (row.unique_email_id, row.member_status, row.email) == (member["unique_email_id"], member["status"],
                                                                   ann.email), (
        "the row holds facts of the old audience's member: %r" % ((row.unique_email_id, row.member_status,
                                                                   row.email),))


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_member_that_was_a_strangers_in_the_old_audience_is_the_contacts_own_in_the_new_one(
        worker_delivery, admin_client, connected, mailchimp_account):
    """Ann (no consent) types an address whose member in the old audience is a stranger's, subscribed on
    Mailchimp's form: Ann's send leaves it as it is (``foreign_member``). The shop moves to a new audience, where
    nobody holds the address: Ann's first send there creates her member, which is hers, and carries her name."""
    emulator, api_key, list_id = mailchimp_account
    address = "stranger.owned@fastmail.com"
    emulator.add_members(api_key, list_id, [address], merge_fields={"FNAME": "Stranger", "LNAME": "Own"})
    ann = new_person(permission=False, first_name="Ann", last_name="Typed", email=address)
    send_due(rounds=2)
    assert row_of(ann).foreign_member is True, "setup: the old audience's member is not Ann's"
    assert emulator.get_member(api_key, list_id, address)["merge_fields"]["FNAME"] == "Stranger"

    other_list = move_to_another_audience(admin_client, connected, emulator)

    member = emulator.get_member(api_key, other_list, address)
    row = row_of(ann)
    assert member is not None and (member["status"], member["merge_fields"].get("FNAME")) == (
        "transactional", "Ann"), (member, row.foreign_member)
    assert row.foreign_member is False, "the member Ann's send created in the new audience is taken for another's"
    assert emulator.get_member(api_key, list_id, address)["merge_fields"]["FNAME"] == "Stranger"
