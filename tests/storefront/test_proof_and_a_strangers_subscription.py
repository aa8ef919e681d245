"""Found by independent review aud17 (issue 19): state.proven_anothers (aud16) marks the other contacts' rows
``foreign_member`` when an
owner proves the address, but leaves ``consent_made`` as it was: False for a row whose first send created the member
subscribed (an arrival never records consent_made). The subscription that row's consent made is then nobody's to
end: not the stranger's (its member "not its own", its consent "not the one that made it"), and the owner never
consented."""
import pytest
from django.test import Client
from shuup.core.models import get_person_contact

from shoop_mailchimp import shop_consent
from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, registered_account
from tests.storefront.test_registration import register

pytestmark = pytest.mark.django_db



@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("ends_by", ["storefront-unsubscribe", "account-deleted"])
@pytest.mark.parametrize("ann_proves", [False, True], ids=["control-no-proof", "ann-proves"])
def test_the_subscription_a_strangers_consent_made_ends_with_its_withdrawal_after_the_owner_proved_the_address(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, ends_by, ann_proves):
    """The shop asks no activation link. Mallory registers an account with Ann's address, the newsletter box ticked:
    Mailchimp holds no member, so the send creates one, subscribed by Mallory's consent (her own member then). Ann
    registers with her
    address (no consent; she never asked for the newsletter) and clicks her activation link: proven_anothers marks
    Mallory's row foreign; consent_made stays False. Mallory then presses Unsubscribe (or deletes her account):
    the press is taken as "her own consent only" (the member is not hers and her consent did not make its
    subscription), the erasure keeps the member subscribed. Ann keeps getting the newsletter though nobody in the
    shop consents to it: the only consent behind the subscription was withdrawn. Without Ann's proof (the control)
    Mallory's withdrawal ends the subscription her consent made."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.made.%s.%d.aud17@fastmail.com" % (ends_by[:7], ann_proves)
    settings.SHUUP_REGISTRATION_REQUIRES_ACTIVATION = False  # the shop asks no activation link
    mallory = register(Client(), "mallory17m%s%d" % (ends_by[:3], ann_proves), ticked=True, email=email)
    mallory_user = mallory.user
    assert mallory.marketing_permission
    send_due(rounds=3)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(mallory_user)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    ann_user, ann = registered_account(
        shop, django_user_model, "ann17m%s%d" % (ends_by[:3], ann_proves), email, first_name="Ann")
    if ann_proves:
        shop_consent.record_proof(ann.pk, email)  # Ann clicks the activation link mailed to her address
    send_due(rounds=3)
    assert not get_person_contact(ann_user).marketing_permission
    if ends_by == "storefront-unsubscribe":
        choose(browser, subscribe=False)
    else:
        get_person_contact(mallory_user).delete()
    send_due(rounds=3)
    status = emulator.get_member(api_key, list_id, email)["status"]
    consenting = [contact.pk for contact in (ann,) if get_person_contact(ann_user).marketing_permission]
    assert status != "subscribed" or consenting, (
        "Ann's address stays subscribed though the only consent behind it (Mallory's) was withdrawn and nobody in the "
        "shop consents (Mallory's row: foreign_member %r, consent_made %r)" % (
            row_of(mallory).foreign_member if ends_by != "account-deleted" else "erased",
            row_of(mallory).consent_made if ends_by != "account-deleted" else "erased"))
