"""Found by independent review aud30 (issue 19), F1 (consent, data): ``ContactPlan.own_before_the_move`` (3bcf92f) takes
the new audience's member of the address last sent for the contact's own whenever the contact's member there was "its
own" in the old audience (``foreign_member`` False). But an unproven account's member is "its own" merely because its
send created it: the account never proved the mailbox. In the new audience the member of that address may be the mailbox
owner's own signup (Mailchimp's form), not a marketer's import. The account then writes its names over hers and its
Unsubscribe ends her subscription."""
import pytest
from django.test import Client

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form, url
from tests.helpers import row_of, send_due
from tests.storefront.conftest import newsletter_block  # noqa: F401 (a fixture: the storefront's theme and block)
from tests.storefront.helpers import choose, registered_account

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits", "newsletter_block")]


@pytest.mark.parametrize("sent_in_old", [False, True], ids=["control-account-never-sent-before", "moved"])
def test_a_strangers_account_does_not_own_the_owners_own_signup_in_the_new_audience(
        admin_client, connected, mailchimp_account, django_user_model, worker_delivery, sent_in_old):
    """A stranger registers an account with Fay's address (no activation link: unproven) and presses Subscribe. In
    the old audience nobody had the address, so the account's send created the member ("its own":
    ``foreign_member`` False). The shop moves to a new audience (disconnect deleting the store, another audience,
    Initialize). In the new audience Fay herself signed up on Mailchimp's own form (her names, subscribed): no import
    of the old audience. The account's first send there takes Fay's member for its own (``own_before_the_move``):
    its names go over Fay's, and the account's Unsubscribe ends the subscription Fay made herself. Expected (as for
    the control: the same account registered only after the move, never sent in the old audience): the member is
    left alone (a stranger's), Fay's names stay, and she stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    email = "fay.aud30.f1.%d@fastmail.com" % sent_in_old

    def move(new_list):
        admin_client.post(url("disconnect"))
        admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id})
        run_due_work()
        assert post_shop_form(admin_client, connected.shop, list_id=new_list, initialize="1").status_code == 302
        for _ in range(3):
            run_due_work()
            drain()
        assert MailchimpConfiguration.objects.get(pk=connected.pk).is_active, "setup: reconnected"

    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [email], status="subscribed",
                         merge_fields={"FNAME": "Fay", "LNAME": "Owner"})
    if sent_in_old:
        user, account = registered_account(connected.shop, django_user_model, "str30", email,
                                           first_name="Stranger", last_name="Taker")
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        choose(browser, subscribe=True)
        send_due(rounds=3)
        assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
        assert row_of(account).foreign_member is False, "setup: the account's member in the old audience is its own"
        move(other_list)
    else:
        move(other_list)
        user, account = registered_account(connected.shop, django_user_model, "str30", email,
                                           first_name="Stranger", last_name="Taker")
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        choose(browser, subscribe=True)
        send_due(rounds=3)
    send_due(rounds=3)
    names = emulator.get_member(api_key, other_list, email)["merge_fields"]
    choose(browser, subscribe=False)
    for _ in range(2):
        run_due_work()
        drain()
    member = emulator.get_member(api_key, other_list, email)
    row = row_of(account)
    assert (names["FNAME"], names["LNAME"]) == ("Fay", "Owner"), (
        "the stranger's account wrote its names over Fay's own signup in the new audience: %r (row foreign_member=%r)"
        % ((names["FNAME"], names["LNAME"]), row.foreign_member))
    assert member["status"] == "subscribed", (
        "the stranger's Unsubscribe ended the subscription Fay made herself in the new audience: %s (row %r)" % (
            member["status"], (row.foreign_member, row.consent_made)))
