"""Found by independent review aud30 (issue 19), F3 (consent): ``state.UNTOLD_FIELDS`` / ``_IfUntold`` (3bcf92f) lets a
close write ``consent_made`` only where ``mailchimp_fact_at`` is older than the claim's second. But
``mailchimp_fact_at`` moves with every fact of the member, also one that says nothing of whose the subscription is: an
``upemail`` (the address's owner changed the member's address on Mailchimp's profile page) arriving while the send that
made the subscription is out (its customer PUT slow) drops ``consent_made`` True for good (the next send computes None:
unchanged). The account's own Unsubscribe is then "own consent only" (``subscription_of_others``) and leaves the
subscription its consent alone made in place."""
import pytest
from django.test import Client

from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import choose, registered_account
from tests.webhooks.helpers import post_event


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-upemail-after-the-close", "upemail-while-out"])
def test_an_upemail_while_the_consent_send_is_out_keeps_the_subscription_the_accounts(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, overlap):
    """Double opt-in. Mailchimp holds Fay's address as a guest buyer's transactional member. An account registered
    with that address (not activated) presses Subscribe: its send asks the address to confirm (pending: made by the
    account's consent alone, ``consent_made``), its customer PUT is slow. Meanwhile the member's address is changed
    on Mailchimp's profile page (the ``upemail`` webhook reaches the shop while the send is out). The account then
    presses Unsubscribe. Expected (as in the control, the upemail after the close): the pending subscription the
    account's consent made ends (unsubscribed). Found: ``consent_made`` stays False, the Unsubscribe is taken for the
    account's consent only and the member stays pending (its confirmation link still subscribes it)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.double_opt_in = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "fay.aud30.f4.%d@fastmail.com" % overlap
    new_email = "fay.aud30.f4.new.%d@fastmail.com" % overlap
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Fay"})
    user, account = registered_account(shop, django_user_model, "fay30f4%d" % overlap, email, first_name="Acc")
    send_due(rounds=3)
    row = row_of(account)
    assert (row.foreign_member, row.member_status, row.opt_in) == (True, "transactional", False), "setup"

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    choose(browser, subscribe=True)
    make_all_due()

    def upemail():
        emulator.fire_event(api_key, list_id, "upemail", email, new_email=new_email)
        if row_of(account).email != new_email:
            assert post_event(Client(), configuration, "upemail", old_email=email,
                              new_email=new_email).status_code == 200
        assert row_of(account).email == new_email, "setup: the shop learnt the upemail"

    with another_worker_held(emulator, "*/customers/%d" % account.pk, "the account's customer PUT"):
        assert emulator.get_member(api_key, list_id, email)["status"] == "pending", "setup: asked to confirm"
        if overlap:
            upemail()
    if not overlap:
        upemail()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, new_email)["status"] == "pending", "setup"
    made = row_of(account).consent_made
    choose(browser, subscribe=False)
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, new_email)["status"]
    assert status not in ("pending", "subscribed"), (
        "the account's Unsubscribe left the subscription its own consent made in place: %s (consent_made before "
        "the Unsubscribe: %r)" % (status, made))
