"""Found by independent review aud58 (issue 19) of d769789, F2 (fixed: an upemail moves only the erasures of the member
it names, and a member found moved is unsubscribed at a shared address unless a holder consents; consent): a
reconciliation pass (or the moved member's late ``upemail``) run while an erasure waits makes the erasure keep
subscribed, on the erased contact's consent, the member its owner moved away, and drags the waiting erasure off the
member it created.

Harm: ``vera_renamed_after_her_shared_member_moved`` (heard): Vera (consenting) and Carl (no consent) shared family@'s
member M1, moved in Mailchimp to home@ (the upemail never reached the shop); Vera's rename created M2 at family@, her
row took M2's id and remembered M1 as a member left with ``moved: True`` (review aud57 F4: deleted at erasure). Carl's
row still names family@ with M1's id. Vera's account is deleted: the erasure waits for the worker. A routine
``mailchimp_reconcile`` runs: ``_apply_page`` pairs M1 (home@) with Carl's row by id and fires a derived ``upemail``
family@ -> home@. ``handle_upemail`` -> ``_erasures_learn(..., old_email, email=new_email)`` moves *every* waiting
erasure at family@ to home@ whatever its member (Vera's row knows M2, not M1), and Carl's row now follows home@
(``rows_at``: it counts as a holder of home@). At erasure ``members_left_shared`` sees Carl at home@, so
``_delete_member_left`` takes ``_clear_member_left`` (fields cleared, never unsubscribed) instead of deleting M1: home@
keeps getting the newsletter on the consent of erased Vera, though the only holder left (Carl) never consented.

Steps: single audience, DELIVERY=worker, short TIMEOUT. ``vera_renamed_after_her_shared_member_moved(lost=False)``; Vera
deleted; ``mailchimp_reconcile`` (``reconcile``), or the upemail's delivery arriving late (``late-upemail``: Mailchimp
retries a failed delivery for over an hour); the worker runs.

Control (``control-no-reconcile``, passes: the aud57 F4 fix): no pass before the worker: M1 at home@ is deleted.
Expected in both: no member at home@ or family@ subscribed or pending (nobody left consents), none with Vera's name."""
import time

import pytest
from django.core.management import call_command
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import vera_renamed_after_her_shared_member_moved
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("reconcile", [False, True, "late-upemail"],
                         ids=["control-no-reconcile", "reconcile", "late-upemail"])
def test_a_reconciliation_while_the_erasure_waits_keeps_the_moved_member_subscribed(
        configuration, mailchimp_account, settings, reconcile):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=(1, 0.3))
    tag = str(reconcile).lower()[:4]
    family, home = "family.%s.aud58f2@fastmail.com" % tag, "home.%s.aud58f2@fastmail.com" % tag
    vera = vera_renamed_after_her_shared_member_moved(mailchimp_account, family, home, lost=False)
    assert emulator.get_member(api_key, list_id, home)["status"] == "subscribed", "setup: Vera's consent moved there"
    assert [entry["email"] for entry in row_of(vera).members_left] == [home], "setup: remembered as left"
    PersonContact.objects.get(pk=vera.pk).delete()  # the erasure waits for the worker
    if reconcile == "late-upemail":
        assert post_event(Client(), configuration, "upemail", old_email=family, new_email=home,
                          new_id=emulator.get_member(api_key, list_id, home)["unique_email_id"]).status_code == 200
    elif reconcile:
        time.sleep(1.1)
        call_command("mailchimp_reconcile")
    erasure_email = row_of(vera).email
    send_due(rounds=3)
    assert row_of(vera).member_status == "erased", "setup: the erasure finished"
    found = {}
    for email in (home, family):
        member = emulator.get_member(api_key, list_id, email)
        if member is not None:
            found[email] = (member["status"], {k: v for k, v in member["merge_fields"].items() if v})
    assert not [email for email, (status, fields) in found.items() if status in ("subscribed", "pending")
                or "Vera" in fields.values() or any("Secretname" in str(v) for v in fields.values())], (
        "Vera was erased, Carl never consented; members now: %r (the waiting erasure was at %s before the worker)"
        % (found, erasure_email))
