"""Found by independent review aud46 (issue 19) of e87e05c, F1 (data, GDPR; fixed): an erasure
recorded while the shop is disconnected, after a first send whose answer was lost, is carried out in the old audience at
the Initialize that moves the shop (``initialization._erase_in_old_audience``) only for rows that know an address
(``contact.erasures_not_sent`` excludes ``email=""``), and only at ``row.email``: the address the lost first send noted
(``SyncState.move_sent_to``, which ``ErasePlan._delete_member_at_noted_address`` reads when connected) is never looked
at. ``state.forget_audience`` then forgets the note and the token, so the worker's erasure in the new audience deletes
nothing: the member the lost first send created in the old audience kept the erased person's names for good. Fixed:
Initialize runs the erasure's own member steps in the old audience (``contact.erase_members_in``), for rows that noted
an address too."""
import pytest
from shuup.core.models import PersonContact

from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import first_send_answer_lost, new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("moved", [False, True],
                         ids=["control-erased-while-connected", "erased-then-audience-moved"])
def test_an_erasure_after_a_lost_first_send_reaches_the_old_audience(
        admin_client, connected, mailchimp_account, settings, moved):
    """Harm (GDPR data loss): Vera deletes her account; the member her first send created in the audience the shop sent
    her to keeps her names ("Vera Secretname") for good.

    Steps: Vera consents; her first send's member POST lands and its answer is lost (the row notes the address,
    ``move_sent_to``, knows no ``email``). The shop is disconnected (store deleted), Vera's account is deleted (erasure
    recorded), and the shop is moved to a new audience (Initialize). Expected (control: erased while connected, the
    erasure deletes the member at the noted address): the member in the old audience is deleted. Found: it stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "vera.aud46f1.%d@fastmail.com" % moved
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    first_send_answer_lost(emulator, api_key, list_id, email)
    row = row_of(vera)
    assert not row.email and row.move_sent_to == email and row.claimed_by, "setup: a lost first send"
    assert emulator.get_member(api_key, list_id, email)["merge_fields"].get("LNAME") == "Secretname", "setup"
    if moved:
        disconnect_and_delete_the_store(admin_client, connected, emulator)
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    if moved:
        initialize_with(admin_client, connected, emulator.add_list(api_key, name="New audience"))
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is None, (
        "Vera was erased; the member her lost first send created at %s keeps her data in the audience the shop had "
        "sent her to: %r" % (email, member and (member["status"], member["merge_fields"])))


@pytest.mark.parametrize("moved", [False, True],
                         ids=["control-erased-while-connected", "erased-then-audience-moved"])
def test_an_erasure_after_a_lost_move_reaches_the_old_audience(
        admin_client, connected, mailchimp_account, settings, moved):
    """Harm (GDPR data loss): Bea deletes her account; her member, moved to her new address by a send whose answer was
    lost, keeps her names (and her subscription) in the audience the shop sent her to.

    Steps: Bea consents and is sent (member at bea@); she changes her address to bea.new@; the move's PATCH lands and
    its answer is lost (the row still names bea@, ``move_sent_to`` = bea.new@). The shop is disconnected, Bea's account
    deleted (erasure recorded), the shop moved to a new audience. ``_erase_in_old_audience`` reads only ``row.email``
    (bea@: no member there now) and the members left; the noted address is forgotten. Expected (control: erased while
    connected, ``_delete_member_at_noted_address``): the member at bea.new@ is deleted. Found: it stays."""
    from tests.helpers import move_answer_lost

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    old, new = "bea.aud46f1m.%d@fastmail.com" % moved, "bea.new.aud46f1m.%d@fastmail.com" % moved
    bea = new_person(permission=True, email=old, first_name="Bea", last_name="Secretname")
    send_due(rounds=2)
    assert row_of(bea).email == old, "setup"
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = new
    bea.save()
    move_answer_lost(mailchimp_account, new)
    row = row_of(bea)
    assert row.email == old and row.move_sent_to == new and row.claimed_by, "setup: a lost move"
    if moved:
        disconnect_and_delete_the_store(admin_client, connected, emulator)
    PersonContact.objects.get(pk=bea.pk).delete()  # erasure
    if moved:
        initialize_with(admin_client, connected, emulator.add_list(api_key, name="New audience"))
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, new)
    assert member is None, (
        "Bea was erased; her member moved to %s keeps her data in the audience the shop had sent her to: %r" % (
            new, member and (member["status"], member["merge_fields"])))
