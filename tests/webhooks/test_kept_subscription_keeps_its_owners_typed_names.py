"""Found by independent review aud53 (issue 19) of 801711b, F3 (fixed: the row keeps a digest of each merge field its
sends wrote, ``SyncState.fields_written``, and an erasure clears only those that still hold it; data loss):
``ErasePlan._delete_own_member`` keeps a member its owner subscribed (``subscribed_by_others``: subscribed on
Mailchimp's own form after the erased contact's last send, which never sent a consent) and now clears EVERY mapped merge
field on it (``dict.fromkeys(self.mapped_tags, "")``), whatever it holds. The names the owner typed on Mailchimp's
signup form (their own data, on their own subscription) are wiped with the erased contact's. ``_clear_member_left`` (the
same situation for a member the contact left) clears only the fields that still hold what the contact's sends wrote
(``left_field_digests``): "A value its owner typed there since is theirs and stays"."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import new_person, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("typed", [False, True], ids=["control-owner-typed-no-names", "owner-typed-their-names"])
def test_a_kept_form_subscription_keeps_the_names_its_owner_typed(configuration, mailchimp_account, settings, typed):
    """Harm (data loss): the subscriber of family@ signed up on Mailchimp's form as "Fam Owner"; the shop's erasure of
    Bob (whose sends never carried a consent) keeps their subscription but blanks their names: campaigns greet them
    with no name, and the shop cannot tell them apart any more. Nobody asked; the data was not Bob's.

    Steps: Bob (no consent, "Bob Hidden") is sent: his own member at family@, transactional. The address's owner
    subscribes on Mailchimp's signup form and types "Fam" / "Owner" ("owner-typed-...": the form writes FNAME/LNAME
    over Bob's; control: they type nothing, Bob's names stay there). Bob's account is deleted; the worker sends the
    erasure: the member is subscribed and Bob's consent never went to it, so it is kept and all mapped fields are
    cleared.

    Control ("control-owner-typed-no-names"): Bob's names are cleared, the subscription stays: passes. Expected in
    both: the member stays subscribed, no "Hidden" on it, and what the owner typed ("Fam Owner") is still there."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud53f3@fastmail.com" % typed
    bob = new_person(permission=False, email=family, first_name="Bob", last_name="Hidden")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, family)["status"] == "transactional", "setup"
    typed_names = {"FNAME": "Fam", "LNAME": "Owner"} if typed else {}
    member, _ = emulator.fire_event(api_key, list_id, "subscribe", family, merges=typed_names or None)
    assert member["status"] == "subscribed", "setup: the owner's form signup"
    PersonContact.objects.get(pk=bob.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    got = member and (member["status"], {k: member["merge_fields"].get(k) for k in ("FNAME", "LNAME")})
    expected = ("subscribed", dict({"FNAME": "", "LNAME": ""}, **typed_names))
    assert got == expected, "after Bob's erasure the owner's subscription is %r (expected %r)" % (got, expected)
