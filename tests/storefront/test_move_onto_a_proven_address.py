"""Found by independent review aud18 (issue 19):
the aud17 fix "a first send at an address another contact proved leaves the member to
them" (``proven_by_others``, ContactPlan.proven_by_another) covers first sends only (``not row.email``). A contact
*moving* to an address another contact proved (its account's address changed) still decides ownership as if nobody
had: ``_move_member`` (contact.py) sets ``owned = True`` after its PATCH ("its own member, moved along"), and so
do ``_no_member_left`` / ``_new_address_apart`` when Mailchimp holds no member there. The row keeps foreign_member
False at the proven owner's address, and every later send of the stranger writes its data over the owner's."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, logged_in_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moves", [False, True], ids=["control-first-send", "stranger-moves-in"])
def test_a_stranger_moving_onto_a_proven_address_does_not_take_the_owners_member(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, moves):
    """Ann registers and proves her address (the activation link); she has not subscribed yet, so Mailchimp holds no
    member of it. A stranger's account (never activated) subscribes with its own address, then types Ann's address
    into its account (control: registers with Ann's address straight away, a first send: left to Ann since aud17).
    The move PATCHes the stranger's member onto Ann's address and the row takes it as its own (foreign_member
    False). Ann subscribes on her account page and her send writes her names there. Then the stranger edits its
    name: its send writes the stranger's names over Ann's on Ann's own member (FNAME 'Stranger')."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False  # the shop sends only people who consented: Ann has no member yet
    configuration.save()
    ann_email = "ann.proven.%d.aud18@fastmail.com" % moves
    ann, ann_browser = logged_in_account(shop, django_user_model, "ann18p%d" % moves, ann_email, proven=True)
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.first_name, ann.last_name = "Ann", "Owner"
    ann.save()
    send_due(rounds=3)
    stranger_email = "stranger.own.%d.aud18@fastmail.com" % moves if moves else ann_email
    stranger, stranger_browser = logged_in_account(shop, django_user_model, "str18p%d" % moves, stranger_email)
    stranger = PersonContact.objects.get(pk=stranger.pk)
    stranger.first_name, stranger.last_name = "Stranger", "Typed"
    stranger.save()
    choose(stranger_browser, subscribe=True)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, stranger_email)["status"] in ("subscribed", "pending")
    if moves:
        stranger = PersonContact.objects.get(pk=stranger.pk)
        stranger.email = ann_email
        stranger.save()
    send_due(rounds=3)
    choose(ann_browser, subscribe=True)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, ann_email)
    assert member is not None and member["merge_fields"].get("FNAME") == "Ann"
    stranger = PersonContact.objects.get(pk=stranger.pk)
    stranger.last_name = "Edited"
    stranger.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, ann_email)
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Ann", "Owner"), (
        "the stranger's account wrote its names over Ann's on the member of the address she proved hers (stranger's "
        "row: foreign_member %r; member: %r)" % (row_of(stranger).foreign_member, member["merge_fields"]))
