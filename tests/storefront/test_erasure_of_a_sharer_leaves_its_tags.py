"""Found by independent review aud33 (issue 19), (data, GDPR): since e3b2394 (aud32 F4) the member two contacts of the
shop share carries the shop's tags (and interests, merge fields) of *all* the address's contacts, written by the one
that owns it. The erasure of the other one (``ErasePlan``: its row ``foreign_member``, the member kept for the owner)
writes nothing and queues nobody (``_keep_member``: ``cleared`` is empty for a member not the erased contact's, so no
``MemberDataErased``): the owner is never sent again, and the erased person's facts stay on the member for good -- here
the tag of a group only the erased account was in (a segment "Wholesale" keeps mailing the address as a wholesaler). The
same account leaving the group instead (the control) takes the tag away (``record_facts_changed``). Set-up as
tests/sync/test_tags_on_a_shared_address.py."""
import pytest
from shuup.core.models import PersonContact
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, row_of

pytestmark = pytest.mark.django_db


def tag_names(member):
    return sorted(tag["name"] for tag in member["tags"])


def _rounds(count=3):
    for _round in range(count):
        make_all_due()
        drain()


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("how", ["left-the-group-control", "account-erased"])
def test_an_erased_accounts_group_tag_leaves_the_member_it_shared(configuration, mailchimp_account, how):
    """Harm: Ann's account is erased (GDPR: its contact deleted) and the member she shares with her newsletter-block
    contact keeps the tag of the group only that account was in. Steps: *Contact groups as Mailchimp tags* =
    "Wholesale". Ann subscribes in the newsletter block (contact B owns the member), registers an account A with the
    address; A joins the group: B's send tags the member. A is then erased. Expected (as when A leaves the group, the
    control): the tag goes. Found: B is never sent again; the tag stays."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    group_tag = group.safe_translation_getter("name", any_language=True)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(tag_group_ids=[group.pk])
    email = "shared.erased.%s.aud33@fastmail.com" % how[:4]
    subscribe_address(configuration.shop, email, first_name="Ann")
    _rounds()
    block_contact = PersonContact.objects.get(email=email)
    account = new_person(email=email, permission=True)
    _rounds()
    group.members.add(account)
    _rounds()
    assert tag_names(emulator.get_member(api_key, list_id, email)) == [group_tag], "setup"
    assert row_of(account).foreign_member is True and row_of(block_contact).applied_tags == group_tag, "setup"
    if how == "account-erased":
        PersonContact.objects.get(pk=account.pk).delete()
    else:
        group.members.remove(account)
    _rounds()
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and tag_names(member) == [], (
        "the member Ann's block contact owns keeps the tag of a group only her %s account was in: %r" % (
            how, tag_names(member)))
