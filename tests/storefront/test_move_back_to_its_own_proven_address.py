"""Found by independent review aud22 (issue 19), F4 (consent): ``ContactPlan._back_at_member_left`` (the fix of aud20's
move back) is reached only from ``_arriving_at_held_member``, which a send skips when the contact's owner proved the
address it arrives at (``proven``: ``owned`` is True from the start; ``_new_address_apart`` and ``_no_member_left``
read nothing then). A contact that proved its own address (an activation link, as shops asking for one do at
registration), moved onto an address another contact proved (its own member archived at its address, remembered as
left) and types its own address back with its consent still given is written with no status: its own member stays
archived for good (and stays listed in ``members_left``). The shop shows it subscribed; Mailchimp never mails it."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, logged_in_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("sam_proved", [False, True], ids=["control-unproven", "sam-proved-his-address"])
def test_a_contact_back_at_its_own_proven_address_is_subscribed_again(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, sam_proved):
    """Ann registered and proved her address. Sam registers (proving his address with the activation link, or not:
    the control) and subscribes on his account page: his own member at sam@. Sam types Ann's address by mistake
    (consent still ticked): his member at sam@ is archived and remembered as left. He types his own address back.
    Expected: his own member at sam@ is subscribed or pending (asking him to confirm). With his proof, it stays
    archived: the send never looks at the member it left there."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    ann_addr = "ann.f4.%d.aud22@fastmail.com" % sam_proved
    own = "sam.f4.%d.aud22@fastmail.com" % sam_proved
    logged_in_account(shop, django_user_model, "ann22f4%d" % sam_proved, ann_addr, proven=True)
    send_due(rounds=3)
    sam, browser = logged_in_account(shop, django_user_model, "sam22f4%d" % sam_proved, own, proven=sam_proved)
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.first_name = "Sam"
    sam.save()
    choose(browser, subscribe=True)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed"
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_addr
    sam.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    assert [m["email"] for m in row_of(sam).members_left] == [own]
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = own
    sam.save()
    send_due(rounds=3)
    row = row_of(sam)
    member = emulator.get_member(api_key, list_id, own)
    assert sam.marketing_permission and member["status"] in ("subscribed", "pending"), (
        "Sam consents and is back at his own address (proved: %s), and his own member there stays %r (row: email %r, "
        "member_status %r, members_left %r): he is never mailed again" % (
            sam_proved, member["status"], row.email, row.member_status, row.members_left))
