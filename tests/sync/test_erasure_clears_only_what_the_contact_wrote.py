"""An erasure that keeps a member (its owner's subscription) clears the merge fields that still hold what the erased
contact's sends wrote (``SyncState.fields_written``: a digest per field, never the value) and leaves what the member's
owner typed since, whether the contact was sent one by one or in a batch (reviews aud53 F3, aud54 F2)."""
import hashlib
import json

import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.kinds.contact import field_digest, still_written
from tests.helpers import new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("transport", ["one-by-one", "batch"])
def test_an_erasure_keeps_the_field_its_owner_retyped_and_clears_the_other(
        configuration, mailchimp_account, settings, transport):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_SIZE=4,
                                    BATCH_POLL_INTERVAL=0.05)
    family = "family.%s.fields-written@fastmail.com" % transport
    if transport == "batch":
        bob = PersonContact.objects.create(first_name="Bob", last_name="Hidden", email=family,
                                           marketing_permission=False)
        row_of(bob).delete()  # a contact the sync never saw: the bulk sync sends it
        assert bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)["contact synced"] == 1
    else:
        bob = new_person(permission=False, email=family, first_name="Bob", last_name="Hidden")
        send_due(rounds=2)
    row = row_of(bob)
    assert set(row.fields_written) >= {"FNAME", "LNAME"}
    assert "Hidden" not in json.dumps(row.fields_written), "digests only, never the values"
    unkeyed = hashlib.sha256(json.dumps("Hidden").encode("utf-8")).hexdigest()[:16]
    assert unkeyed not in row.fields_written["LNAME"], "keyed: not reversed by trying every value without the key"
    member, _ = emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Fam"})
    assert (member["status"], member["merge_fields"]["LNAME"]) == ("subscribed", "Hidden"), "setup: the owner's signup"

    PersonContact.objects.get(pk=bob.pk).delete()
    send_due(rounds=3)

    member = emulator.get_member(api_key, list_id, family)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Fam", "")
    assert row_of(bob).fields_written is None, "nothing of the erased person's stays on the row"


def test_a_digest_kept_before_digests_were_keyed_still_matches():
    """Rows and members left recorded with the unkeyed digest of a value are still matched."""
    unkeyed = hashlib.sha256(json.dumps("Hidden").encode("utf-8")).hexdigest()[:16]
    held = {"FNAME": "Fam", "LNAME": "Hidden"}
    assert still_written({"LNAME": unkeyed, "FNAME": unkeyed}, held) == ["LNAME"]
    assert still_written({"LNAME": [field_digest("Other"), unkeyed]}, held) == ["LNAME"]
    assert still_written({"LNAME": [field_digest("Other")]}, held) == []
