"""Found by independent review aud35 (issue 19), F3 (consent): an upemail of the address a move goes to, while the
move is out, was overwritten by the close (e268169, withdrawn): the contact's Unsubscribe missed her member."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.storefront import subscriptions
from tests.helpers import another_worker_held, make_all_due, new_person, row_of, send_due
from tests.webhooks.helpers import corrected_in_mailchimp


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-upemail-after-the-close", "upemail-while-out"])
def test_her_unsubscribe_reaches_her_member_moved_in_mailchimp_while_her_move_was_out(
        shop, configuration, mailchimp_account, settings, overlap):
    """Harm (consent): Dora's own Unsubscribe in the shop never reaches her member; she keeps getting the newsletter.

    Steps: Dora consents, her member is subscribed at dora@. She changes her shop address to dora.new@: a worker's
    send moves her member there (PUT), its customer PUT slow. Meanwhile the member's address is corrected in
    Mailchimp to dora.fixed@ (dora.new@ -> dora.fixed@); the ``upemail`` reaches the shop and finds Dora's row by her
    contact's address (``matching_states``): ``email`` = dora.fixed@. The move's close keeps it (guarded), and then
    ``state._moved_meanwhile`` (e268169) takes the row's changed ``email`` for an upemail of the address the send
    left (dora@), and writes the send's address, dora.new@, over it: the row addresses dora.new@, where Mailchimp
    holds no member. Dora presses Unsubscribe: the send goes to dora.new@, her member at dora.fixed@ stays
    subscribed. Control: the upemail arrives after the close."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "ov%d" % overlap
    old, new, fixed = ("dora.%s@fastmail.com" % tag, "dora.new.%s@fastmail.com" % tag,
                       "dora.fixed.%s@fastmail.com" % tag)
    dora = new_person(permission=True, first_name="Dora", email=old)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "subscribed", "setup"
    dora = PersonContact.objects.get(pk=dora.pk)
    dora.email = new
    dora.save()
    make_all_due()
    if overlap:
        with another_worker_held(emulator, "*/customers/%d" % dora.pk, "Dora's move's customer PUT"):
            assert emulator.get_member(api_key, list_id, new), "setup: the move wrote her member at dora.new@"
            corrected_in_mailchimp(configuration, mailchimp_account, new, fixed)
            assert row_of(dora).email == fixed, "setup: the upemail found her row"
    else:
        send_due(rounds=3)
        corrected_in_mailchimp(configuration, mailchimp_account, new, fixed)
    send_due(rounds=3)
    row_email = row_of(dora).email
    subscriptions.withdraw_consent(shop, PersonContact.objects.get(pk=dora.pk))  # the account page's Unsubscribe
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, fixed)
    assert member["status"] == "unsubscribed", (
        "Dora's unsubscribe never reached her member at %s: it is %s (her row addressed %s before it; member at "
        "dora.new@: %r)" % (fixed, member["status"], row_email,
                            (emulator.get_member(api_key, list_id, new) or {}).get("status")))
