"""Found by independent review aud58 (issue 19) of d769789, F1 (fixed: digests name the key they were made with; with
that key gone, an erasure clears every field the shop fills; GDPR): after the documented key rotation, an erasure leaves
the erased person's data on a member it keeps.

Harm: the digests an erasure uses to tell the erased contact's merge field values from its owner's
(``SyncState.members_left[].fields``, ``SyncState.fields_written``) are HMACs keyed with the first ``ENCRYPTION_KEYS``
entry (``encryption.digests``, new in d769789). docs/security.rst's rotation procedure is: list ``[new, old]``, run
``mailchimp_rotate_keys`` (it re-encrypts the API keys only: digests cannot be re-keyed), and once ``check --tag
database`` no longer shows W002, remove ``old``. From then on no stored digest matches (``contact.still_written``
compares with the configured keys and the unkeyed legacy digest only), so ``ErasePlan._clear_member_left`` /
``_erased_fields`` clear nothing: Sam's first and last names stay for good on the member he left, which his erasure
keeps (its owner Olga subscribed there on Mailchimp's form). Same for ``fields_written`` at a shared member. The same
happens with the default (no ENCRYPTION_KEYS) on any SECRET_KEY rotation.

Steps: ``_sam_moves`` (Sam's member at sam@ archived when he moves to Ann's proven address, remembered in members_left
with digests); Olga subscribes sam@ on Mailchimp's form typing nothing. Keys rotated as documented (``[new, old]``,
``mailchimp_rotate_keys``, then ``[new]``). Sam's account is deleted; the worker erases.

Control (``control-old-key-still-listed``, passes): the same, stopping before step 3 (old key still listed): Sam's names
are cleared. Expected in both: no value of Sam's on the member kept for Olga."""
import pytest
from django.core.management import call_command
from shuup.core.models import get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.test_move_onto_a_proven_address_leaves_its_member import _sam_moves

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("old_removed", [False, True], ids=["control-old-key-still-listed", "old-key-removed"])
def test_erasure_after_a_documented_key_rotation_clears_the_erased_data(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, old_removed):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    user, _browser, own, _ann = _sam_moves(shop, configuration, emulator, api_key, list_id, django_user_model,
                                           "aud58f1%d" % old_removed, True)
    sams = emulator.get_member(api_key, list_id, own)["merge_fields"]
    assert sams.get("FNAME") == "Sam" and [m["email"] for m in row_of(get_person_contact(user)).members_left] == [own]
    emulator.fire_event(api_key, list_id, "subscribe", own)
    send_due(rounds=2)
    # docs/security.rst "Rotating the encryption key"
    from shoop_mailchimp import encryption
    old = list(encryption.configured_secrets())
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, ENCRYPTION_KEYS=["a-new-secret-aud58-0123456789"] + old)
    call_command("mailchimp_rotate_keys")
    if old_removed:
        settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, ENCRYPTION_KEYS=["a-new-secret-aud58-0123456789"])
    configuration.refresh_from_db()
    assert configuration.api_key == api_key, "setup: the API key reads after the rotation"
    get_person_contact(user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, own)
    assert member is not None and member["status"] == "subscribed", "setup: kept for Olga"
    held = {tag: value for tag, value in member["merge_fields"].items() if value}
    assert not {tag: value for tag, value in held.items() if value == sams.get(tag)}, (
        "Sam was erased after the key rotation docs/security.rst describes; the member kept keeps his data: %r" % held)
