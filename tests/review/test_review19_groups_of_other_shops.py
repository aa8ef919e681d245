"""review19: the "Contact groups" merge field lists the names of EVERY group the contact is in, including groups of
other shops (``ContactGroup.shop``) in a Shuup with several shops: ``contact.Context`` loads the contact's group
memberships and names with no shop filter. Shop B's private segmentation ("Late payers - wholesale") then lands in
shop A's Mailchimp audience, readable by A's marketers and usable in A's campaigns. The admin's own group choices
(interests, tag groups) are limited to ``shop_groups`` (the shop's own and the shared ones); the merge field is not."""
import pytest
from shuup.core.models import ContactGroup
from shuup.testing.factories import get_shop

from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.merge_field_setup import create_merge_fields
from shoop_mailchimp.models import JobKind
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs
from tests.helpers import new_person

pytestmark = pytest.mark.django_db


def test_the_groups_merge_field_names_only_this_shops_groups(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    run_due_jobs(configuration.shop_id)
    configuration.refresh_from_db()
    with open_session(configuration) as session:
        create_merge_fields(configuration, session, ["groups"])
    configuration.refresh_from_db()

    own = ContactGroup.objects.create(identifier="regulars", shop=configuration.shop, name="Regulars")
    other_shop = get_shop(identifier="other-shop", name="Other shop", domain="other.example.com")
    theirs = ContactGroup.objects.create(identifier="late-payers", shop=other_shop, name="Late payers - wholesale")
    person = new_person()
    own.members.add(person)
    theirs.members.add(person)
    person.save()
    drain()

    groups = emulator.get_member(api_key, list_id, person.email)["merge_fields"].get("GROUPS", "")
    assert "Regulars" in groups
    assert "Late payers" not in groups, "another shop's group reached this shop's audience: %r" % groups
