"""Found by independent review aud56 (issue 19) of 243957f, F1 (fixed: the ``upemail`` webhook moves a waiting erasure
with its member, and an event naming the member a lost move noted reaches its row; consent / data loss): the
``unsubscribe`` and ``subscribe`` webhooks reach a waiting erasure only by the address the row last sent
(``member_events._erasures_learn``: ``email__iexact``). The ``upemail`` webhook never updates an erasure row
(``handle_upemail`` -> ``matching_states``: ``erase=False``). So after the owner moves the member in Mailchimp while the
erasure waits, the owner's unsubscribe and form signup at the new address never reach the erasure row (its ``opt_in``
stays True), and ``ErasePlan._delete_own_member`` (member found by its id at the new address) takes the stale ``opt_in``
as the consent the member is subscribed with and deletes the owner's fresh signup for good."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import move_answer_lost, new_person, row_of, send_due
from tests.webhooks.helpers import owner_resubscribes_on_the_form, post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]



@pytest.mark.parametrize("moved", [False, True], ids=["control-not-moved", "moved-in-mailchimp-while-erasure-waits"])
def test_owners_form_resubscription_at_the_moved_address_survives_a_waiting_erasure(
        configuration, mailchimp_account, settings, moved):
    """Harm (consent, data loss): the owner unsubscribed and signed up again on Mailchimp's own form (a new explicit
    consent); the waiting erasure permanently deletes that member (the API can never write the address again), on the
    strength of Vera's consent, which the owner had withdrawn.

    Steps: Vera (consenting) is sent: her own subscribed member at vera@ (no other contact has it). Vera's account is
    deleted (erasure recorded, not sent: DELIVERY=worker). With ``moved``: the owner changes the member's address in
    Mailchimp to home@ (upemail webhook reaches the shop). The owner unsubscribes (webhook), then signs up again on
    Mailchimp's form (webhook), at the member's address (home@ when moved, else vera@). The worker sends the erasure.

    Control ("control-not-moved", passes on 243957f): the same unsubscribe and signup at vera@ reach the erasure row
    (aud55 F2 fix) and the erasure keeps the member subscribed. Expected in both: the owner's signup stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    tag = "%d.aud56f1@fastmail.com" % moved
    email, home = "vera." + tag, "home." + tag
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    row = row_of(vera)
    assert not row.foreign_member and row.opt_in and row.unique_email_id, "setup: Vera's own member"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    where = email
    if moved:
        emulator.fire_event(api_key, list_id, "upemail", email, new_email=home)
        member = emulator.get_member(api_key, list_id, home)
        assert post_event(Client(), configuration, "upemail", old_email=email, new_email=home,
                          new_id=member["unique_email_id"]).status_code == 200
        where = home
    owner_resubscribes_on_the_form(configuration, mailchimp_account, where)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, where)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after unsubscribing; Vera's erasure deleted that "
        "member: %r" % (where, member and member["status"]))


@pytest.mark.parametrize("lost", [False, True], ids=["control-move-answered", "move-answer-lost"])
def test_owners_form_resubscription_at_a_noted_address_survives_a_waiting_erasure(
        configuration, mailchimp_account, settings, lost):
    """Harm (consent, data loss): the same through the address a lost move noted (``SyncState.move_sent_to``): the
    owner's unsubscribe and form signup at the address the member was moved to never reach the erasure row (it names
    the old address; ``_erasures_learn`` matches ``email`` only), and the erasure deletes the signup for good.

    Steps: Vera (consenting) is sent at old@ (her own member). She changes her address to new@: the move PATCH lands,
    with ``lost`` its answer is lost (TIMEOUT=2; the row still names old@, new@ noted). Vera's account is deleted
    (erasure waits). The owner unsubscribes new@, then signs up again on the form (webhooks). The worker sends.

    Control ("control-move-answered", passes on 243957f): the move answered, the row names new@, the webhooks reach it
    and the erasure keeps the signup. Expected in both: new@ stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    tag = "%d.aud56f1n@fastmail.com" % lost
    old, new = "old." + tag, "new." + tag
    vera = new_person(permission=True, email=old, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    vera = PersonContact.objects.get(pk=vera.pk)
    vera.email = new
    vera.save()
    move_answer_lost(mailchimp_account, new, lost)
    row = row_of(vera)
    assert emulator.get_member(api_key, list_id, new)["status"] == "subscribed", "setup: moved"
    assert (row.email, row.move_sent_to) == ((old, new) if lost else (new, "")), "setup: %r" % (
        (row.email, row.move_sent_to),)
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    owner_resubscribes_on_the_form(configuration, mailchimp_account, new)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, new)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after unsubscribing; Vera's erasure ended that signup: "
        "%r" % (new, member and member["status"]))
