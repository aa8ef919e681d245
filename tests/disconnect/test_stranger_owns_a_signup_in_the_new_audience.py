"""Found by independent reviews aud30 (issue 19), F1 (consent, data), and aud31, F4 (consent), against a fix since
withdrawn (``ContactPlan.own_before_the_move``, 3bcf92f and 8247bf6): it took the new audience's member of a contact's
address for the contact's own whenever its member there was "its own" in the old audience (``foreign_member`` False),
first always, then when the merge fields both fill matched. But an unproven account's member is "its own" merely
because its send created it: the account never proved the mailbox. In the new audience the member of that address may
be the mailbox owner's own signup (Mailchimp's form), not a marketer's import, holding only a first name the account
shares. The account then wrote its names over hers and its Unsubscribe ended her subscription."""
import pytest
from django.test import Client

from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with, work_rounds
from tests.helpers import row_of, send_due
from tests.storefront.conftest import newsletter_block  # noqa: F401 (a fixture: the storefront's theme and block)
from tests.storefront.helpers import choose, registered_account

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits", "newsletter_block")]

#: (Fay's own signup in the new audience, the stranger's account's names).
SIGNUPS = {"her-names": ({"FNAME": "Fay", "LNAME": "Owner"}, ("Stranger", "Taker")),
           "her-first-name-only": ({"FNAME": "Fay"}, ("Fay", "Taker"))}


@pytest.mark.parametrize("signup", sorted(SIGNUPS))
@pytest.mark.parametrize("sent_in_old", [False, True], ids=["control-account-never-sent-before", "moved"])
def test_a_strangers_account_does_not_own_the_owners_own_signup_in_the_new_audience(
        admin_client, connected, mailchimp_account, django_user_model, worker_delivery, sent_in_old, signup):
    """A stranger registers an account with Fay's address (no activation link: unproven) and presses Subscribe. In
    the old audience nobody had the address, so the account's send created the member ("its own":
    ``foreign_member`` False). The shop moves to a new audience (disconnect deleting the store, another audience,
    Initialize). In the new audience Fay herself signed up on Mailchimp's own form (her names, or her first name only,
    which the account shares): no import of the old audience. Expected (as for the control: the same account
    registered only after the move, never sent in the old audience): the member is left alone (a stranger's), Fay's
    names stay, and the account's Unsubscribe leaves her subscribed."""
    emulator, api_key, list_id = mailchimp_account
    fays, (first_name, last_name) = SIGNUPS[signup]
    email = "fay.%s.%d@fastmail.com" % (signup, sent_in_old)
    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [email], status="subscribed", merge_fields=fays)

    def stranger_subscribes():
        user, account = registered_account(connected.shop, django_user_model, "str%d" % sent_in_old, email,
                                           first_name=first_name, last_name=last_name)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        choose(browser, subscribe=True)
        send_due(rounds=3)
        return account, browser

    if sent_in_old:
        account, browser = stranger_subscribes()
        assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
        assert row_of(account).foreign_member is False, "setup: the account's member in the old audience is its own"
    disconnect_and_delete_the_store(admin_client, connected, emulator)
    initialize_with(admin_client, connected, other_list)
    if not sent_in_old:
        account, browser = stranger_subscribes()
    send_due(rounds=3)
    names = emulator.get_member(api_key, other_list, email)["merge_fields"]
    choose(browser, subscribe=False)
    work_rounds(2)
    member = emulator.get_member(api_key, other_list, email)
    row = row_of(account)
    assert {tag: names.get(tag) for tag in fays} == fays and not (names.get("LNAME") or "") == last_name, (
        "the stranger's account wrote its names over Fay's own signup in the new audience: %r (row foreign_member=%r)"
        % (names, row.foreign_member))
    assert member["status"] == "subscribed", (
        "the stranger's Unsubscribe ended the subscription Fay made herself in the new audience: %s (row %r)" % (
            member["status"], (row.foreign_member, row.consent_made)))
