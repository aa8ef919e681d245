"""Found by independent review aud35 (issue 19), F2 (data): a move's close after the shop moved to another audience
(``forget_audience``) while the move was out put the old audience's address back on the forgotten row (e268169,
withdrawn)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form
from tests.disconnect.helpers import disconnect_and_delete_the_store
from tests.helpers import another_worker_held, make_all_due, new_person, row_of, send_due


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("erased", [False, True], ids=["ann-changes", "ann-erased"])
@pytest.mark.parametrize("overlap", [False, True], ids=["control-moved-before-the-audience-move", "out-during-it"])
def test_a_move_out_during_an_audience_move_leaves_the_stranger_member_of_the_new_audience_alone(
        worker_delivery, admin_client, connected, mailchimp_account, overlap, erased):
    """Harm (data): Ann's names overwrite those of Stella's own member in the new audience; Ann's erasure then
    deletes Stella's member (subscribed by Stella herself) for good.

    Steps: Ann consents, her member is subscribed at ann@ (old audience). She changes her shop address to
    ann.new@; a worker takes the move (member moved to ann.new@), its customer PUT slow. Meanwhile the owner
    disconnects and initializes with a new audience, where a marketer's import holds Stella's member at ann.new@
    (Stella Owner, subscribed): ``forget_audience`` clears every row (no address). The move's close keeps the row's
    ``email`` "" (guarded), then ``state._moved_meanwhile`` sees the guard changed (held "" is neither the claim's
    address nor the send's) and writes ``email`` = ann.new@: the forgotten row now claims the new audience's member
    as the one its sends wrote, and its next send is no first send (which would read the member and leave a
    stranger's names alone): it writes Ann's names there and records the member as Ann's own, so her erasure
    (``ErasePlan._delete_own_member``) deletes it. Control: the move closed before the audience move."""
    emulator, api_key, list_id = mailchimp_account
    tag = "ov%d%d" % (overlap, erased)
    old, new = "ann.%s@fastmail.com" % tag, "ann.new.%s@fastmail.com" % tag
    ann = new_person(permission=True, first_name="Ann", last_name="Mover", email=old)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed", "setup"
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = new
    ann.save()
    make_all_due()
    state = {}

    def the_owner_moves_the_shop():
        disconnect_and_delete_the_store(admin_client, connected, emulator)
        new_list = emulator.add_list(api_key, name="New audience")
        emulator.add_members(api_key, new_list, [new], merge_fields={"FNAME": "Stella", "LNAME": "Owner"})
        assert post_shop_form(admin_client, connected.shop, list_id=new_list, initialize="1").status_code == 302
        run_due_work()
        configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
        assert configuration.list_id == new_list and configuration.is_active, "setup"
        return new_list

    if overlap:
        with another_worker_held(emulator, "*/customers/%d" % ann.pk, "Ann's move's customer PUT"):
            assert emulator.get_member(api_key, list_id, new), "setup: the move wrote her member at ann.new@"
            other_list = the_owner_moves_the_shop()
    else:
        send_due(rounds=3)
        assert row_of(ann).email == new, "setup"
        other_list = the_owner_moves_the_shop()
    row = row_of(ann)
    state["after"] = (row.email, row.shop_email, row.member_status, row.unique_email_id, row.status)
    send_due(rounds=4)
    if erased:
        PersonContact.objects.get(pk=ann.pk).delete()  # Ann has her account deleted
        send_due(rounds=3)
    member = emulator.get_member(api_key, other_list, new)
    assert member is not None, (
        "Ann's erasure deleted Stella's own member of the new audience for good (row after the close: %r)"
        % (state["after"],))
    assert member["merge_fields"].get("FNAME") == "Stella", (
        "Ann's send renamed Stella's member of the new audience: %r (row after the close: %r)" % (
            member["merge_fields"], state["after"]))
