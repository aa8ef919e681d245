"""Found by independent review aud17 (issue 19): the aud16 fix "an owner proving her address marks the address's
other contacts' rows
foreign" (state.proven_anothers) acts on rows as they are at the proof. A stranger's row not yet sent (or sent
nowhere yet) arrives at the address afterwards: an arrival ignores ``foreign_member`` and decides afresh by what
Mailchimp holds, and nothing in that decision asks whether another contact proved the address theirs."""
import pytest
from django.test import Client
from shuup.core.models import get_person_contact

from shoop_mailchimp import shop_consent
from tests.helpers import row_of, send_due
from tests.storefront.helpers import presses_on_account_page, registered_account
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db



@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("strangers_send", ["before-proof", "after-proof"])
def test_a_strangers_first_send_after_ann_proved_the_address_does_not_own_her_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, strangers_send):
    """Mallory registers an account with Ann's address (never activated); the worker has not sent it yet. Ann
    registers with her address and clicks the activation link (record_proof: proven_anothers marks Mallory's unsent
    row foreign). The next worker round sends Mallory's older row first: an arrival, it reads the member, finds none
    and creates it as Mallory's own (foreign_member False, the mark overwritten); Ann's send (proven) then writes
    hers. Both rows own the member. Ann subscribes on Mailchimp's own form. Mallory's later edit renames Ann's proven
    member, and after the staff tick Mallory's consent, Mallory's account-page Unsubscribe is the address's: Ann's
    own subscription ends. (before-proof: Mallory's row was sent before Ann proved, the case aud16 fixed: passes.)"""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.proved.%s.aud17@fastmail.com" % strangers_send
    mallory_user, mallory = registered_account(
        shop, django_user_model, "mallory17p" + strangers_send[:3], email, first_name="Mallory")
    if strangers_send == "before-proof":
        send_due(rounds=3)
    ann_user, ann = registered_account(shop, django_user_model, "ann17p" + strangers_send[:3], email, first_name="Ann")
    shop_consent.record_proof(ann.pk, email)  # Ann clicks the activation link mailed to her address
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["merge_fields"]["FNAME"] == "Ann"
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # Ann subscribes on Mailchimp's form
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    mallory = get_person_contact(mallory_user)
    mallory.last_name = "Edited"
    mallory.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    renamed = (member["merge_fields"]["FNAME"], member["merge_fields"].get("LNAME", ""))
    mallory = get_person_contact(mallory_user)
    mallory.marketing_permission = True  # the staff's tick
    mallory.save()
    send_due(rounds=3)
    presses_on_account_page(mallory_user, subscribe=False)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert (renamed, status) == (("Ann", ""), "subscribed"), (
        "Mallory's row owns the member Ann proved hers (foreign_member %r): her edit renamed it %r, and her "
        "Unsubscribe left it %s" % (row_of(mallory).foreign_member, renamed, status))
