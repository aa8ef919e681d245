"""Found by independent review aud22 (issue 19), F2 (consent, data loss): ``ErasePlan._delete_member_left`` permanently
deletes a member the erased contact left (archived) under an old address unless it is "subscribed or pending and not
``self.row.opt_in``". The erased row's ``opt_in`` is the consent it last sent to its *current* address; the left
member was archived when the contact moved away (its consent "left with the contact",
``_onto_anothers_proven_address``), and the shop sent no consent there since. A subscription on that member after it
was archived is someone else's (the mailbox's owner on Mailchimp's own form); a consenting contact's erasure deletes
it for good (the address can never be re-added through the API)."""
import pytest
from shuup.core.models import get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("sam_consents", [False, True], ids=["control-sam-withdrew", "sam-consents"])
def test_an_erasure_keeps_a_left_member_its_owner_subscribed_again_on_mailchimps_form(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, sam_consents):
    """Sam registers and subscribes (his member at sam@). Ann registered and proved her address; Sam types Ann's
    address (his consent still ticked): his member at sam@ is archived and remembered in members_left. Olga, who
    owns the mailbox sam@ (Sam's typo of long ago), subscribes on Mailchimp's own form: the archived member comes
    back subscribed (the same unique_email_id), with her names; the webhook finds no contact of the shop at sam@.
    Sam has his account deleted. Expected: Olga's subscription, made by her after Sam's consent left that address,
    stays. It is permanently deleted when Sam still consents (at Ann's address): ``_delete_member_left`` takes his
    row's opt_in for consent given to the left member. Control: Sam withdrew first (opt_in False): kept."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, browser, own, ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                               "olga%d" % sam_consents, True)
    sam_uid = emulator.get_member(api_key, list_id, own)["unique_email_id"]
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    if not sam_consents:
        from tests.storefront.test_account_page import choose
        choose(browser, subscribe=False)
        send_due(rounds=3)
    member, _ = emulator.fire_event(api_key, list_id, "subscribe", own, merges={"FNAME": "Olga", "LNAME": "Real"})
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, own)
    assert member["status"] == "subscribed" and member["unique_email_id"] == sam_uid
    assert row_of(get_person_contact(user)).opt_in is sam_consents
    get_person_contact(user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["status"] == "subscribed", (
        "Olga subscribed %s on Mailchimp's own form after Sam's consent left that address; Sam's erasure deleted "
        "her subscription for good: %r" % (own, member))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("olga_types", [False, True], ids=["control-olga-typed-nothing", "olga-typed-her-names"])
def test_an_erasure_clears_the_left_members_data_but_not_what_its_owner_typed_since(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, olga_types):
    """Found by independent review aud23 (F4, data). Sam's member at sam@, with his names, is archived when he moves
    to Ann's proven address (remembered in members_left, with a digest of each field it held). Olga, who owns the
    mailbox sam@, subscribes on Mailchimp's own form and types her names. Sam has his account deleted. Expected:
    the member stays subscribed (Olga's), carries none of Sam's data, and keeps what Olga typed: "Olga Real" (the
    control: she typed nothing, and Sam's names are cleared). Found: the clearing sent every field the shop fills
    empty, Olga's names with them."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, _browser, own, _ann_email = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                                 "olga4%d" % olga_types, True)
    sams = emulator.get_member(api_key, list_id, own)["merge_fields"]
    assert sams.get("FNAME") == "Sam" and [m["email"] for m in row_of(get_person_contact(user)).members_left] == [own]
    emulator.fire_event(api_key, list_id, "subscribe", own,
                        merges={"FNAME": "Olga", "LNAME": "Real"} if olga_types else None)
    send_due(rounds=2)
    get_person_contact(user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["status"] == "subscribed"
    held = {tag: value for tag, value in member["merge_fields"].items() if value}
    assert not {tag: value for tag, value in held.items() if value == sams.get(tag)}, (
        "Sam was erased; the member he left keeps his data: %r" % held)
    assert held == ({"FNAME": "Olga", "LNAME": "Real"} if olga_types else {}), (
        "Olga typed her names on Mailchimp's form after Sam left the member; his erasure cleared them: %r" % held)
