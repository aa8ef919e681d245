"""Found by independent review aud19 (issue 19): a stranger's account with consent moving onto an address another
contact proved theirs, where Mailchimp holds no member yet, goes through ``ContactPlan._new_address_apart``
(contact.py) with ``owned`` False (``proven_by_another``): its write creates the member at the proven address
with the stranger's consent as ``subscribed`` outright (single opt-in), where a stranger's first send at the same
proven address asks the owner to confirm (``pending``, the control). The row then records no ``consent_made``
(foreign_member True), so even the stranger's Unsubscribe no longer ends the owner's subscription it made."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, logged_in_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moves", [False, True], ids=["control-first-send", "stranger-moves-in"])
def test_a_strangers_move_onto_a_proven_address_does_not_subscribe_its_owner(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, moves):
    """Ann registers and proves her address (activation link); she never subscribes (no member: the shop sends
    only consenting people). A stranger's account subscribes on its account page with its own address, then types
    Ann's address into the account (control: registers with Ann's address and subscribes: a first send, which
    leaves Ann's address pending: the confirmation mail asks Ann). The move's send creates a member at Ann's proven
    address already *subscribed*: Ann gets the newsletter without ever consenting or confirming, and the
    stranger's later Unsubscribe does not end it either."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    ann_email = "ann.pm.%d.aud19@fastmail.com" % moves
    logged_in_account(shop, django_user_model, "ann19pm%d" % moves, ann_email, proven=True)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, ann_email) is None
    stranger_email = "stranger.pm.%d.aud19@fastmail.com" % moves if moves else ann_email
    stranger, browser = logged_in_account(shop, django_user_model, "str19pm%d" % moves, stranger_email)
    choose(browser, subscribe=True)
    send_due(rounds=3)
    if moves:
        stranger = PersonContact.objects.get(pk=stranger.pk)
        stranger.email = ann_email
        stranger.save()
        send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, ann_email)["status"]
    assert status != "subscribed", (
        "a stranger's consent subscribed Ann's proven address outright (no confirmation asked of her); stranger's "
        "row: consent_made %r, foreign_member %r" % (row_of(stranger).consent_made, row_of(stranger).foreign_member))
    choose(browser, subscribe=False)
    send_due(rounds=3)
