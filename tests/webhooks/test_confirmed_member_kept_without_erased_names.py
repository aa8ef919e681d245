"""Found by independent review aud52 (issue 19) of 94d080a, F2 (fixed: a member kept as its owner's subscription is
cleared of the erased contact's data; GDPR): ``member_events._erasures_learn`` (new in 94d080a) makes an
erasure of an address no live contact has learn a subscribe as its owner's (``consent_made=False``). Another erasure of
the address then takes the member for "its owner subscribed it" (``ErasePlan._delete_own_member``:
``subscribed_by_others``, ``made_by_a_consent_gone`` no longer true) and keeps it AS IT IS: unlike ``_keep_member`` it
clears none of the erased person's merge fields. The erased contact's own member keeps his names for good (nothing
retries: the row is ERASED)."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("confirmed", [False, True],
                         ids=["control-not-confirmed", "confirmed-while-both-erasures-wait"])
def test_a_member_kept_for_its_owners_confirmation_is_cleared_of_the_erased_persons_names(
        configuration, mailchimp_account, settings, confirmed):
    """Harm (GDPR): Bob's account is deleted; his names ("Bob Hidden"), written by his own sends on his own member,
    stay in Mailchimp for good.

    Steps: Bob (no consent) is sent: his own member at family@, with his names. Ann (consenting) is added with family@:
    her send asks the address to confirm (pending; Ann's row foreign_member, consent_made; her sends leave the names
    as they are). Bob's and Ann's accounts are deleted (two erasures recorded). ("confirmed-...") The address's owner
    clicks the confirmation link: subscribed, the subscribe webhook reaches the shop (200) and both erasure rows learn
    it as the owner's. The worker sends: Bob's erasure keeps the member (its owner's subscription) without clearing
    his names.

    Control ("control-not-confirmed"): no confirmation: Bob's erasure deletes his member. Expected in both: whatever
    becomes of the member (kept for its owner's subscription, or deleted), no member of the audience carries Bob's
    names."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud52f2@fastmail.com" % confirmed
    bob = new_person(permission=False, email=family, first_name="Bob", last_name="Hidden")
    send_due(rounds=2)
    ann = new_person(permission=True, email=family, first_name="Ann", last_name="")
    send_due(rounds=2)
    row = row_of(ann)
    assert row.foreign_member and row.consent_made and row.opt_in, "setup"
    member = emulator.get_member(api_key, list_id, family)
    assert member["status"] == "pending" and member["merge_fields"]["LNAME"] == "Hidden", "setup: Bob's names"
    PersonContact.objects.get(pk=bob.pk).delete()
    PersonContact.objects.get(pk=ann.pk).delete()
    if confirmed:
        emulator.fire_event(api_key, list_id, "subscribe", family)
        assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
        assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: the owner confirmed"
    send_due(rounds=3)
    left = {m["email_address"]: (m["status"], m["merge_fields"]) for m in emulator.members(api_key, list_id)
            if "Hidden" in (m.get("merge_fields") or {}).values()}
    assert not left, "Bob was erased (row %s); his names stay on %r" % (row_of(bob).member_status, left)
