"""Found by independent review aud23 (issue 19, data, GDPR): ``ErasePlan._clear_member_left`` (contact.py) keeps a
member the erased contact left under an old address when another contact of the shop "has to do with" the address,
and cleared only the merge fields of the shop's mapping at the erasure. The member kept the interests of the erased
person's contact groups ("Debt collection") and the fields the shop created and unmapped since (GROUPS): a contact
that never owned the member (a contact the staff added) writes none of its data there, so nothing overwrote them.
Now both are cleared, and (since aud23 F4) every merge field still holding what it held when the contact left the
member, mapped or not (ADDRESS too). Not cleared (open): the shop's rule tags (a marketer may have added the same
names by hand) and the member's language."""
import pytest
from shuup.core.models import ContactGroup, PersonContact, get_person_contact

from shoop_mailchimp.models import MailchimpConfiguration
from tests.helpers import row_of, send_due
from tests.storefront.helpers import logged_in_account, presses_on_account_page, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
def test_an_erasure_clears_the_group_interests_of_a_left_member_kept_for_another(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """Sam (language Finnish) is in the shop's contact group "Debt collection" (the shop tags that group), registers
    and subscribes: his member carries the group's interest, its tag, and his language. Ann proved her address; Sam
    types Ann's address: his member at sam@ is archived and remembered (members_left). The staff add Tom with
    sam@ (no consent: never sent). Sam has his account deleted. Expected: the member kept for Tom holds nothing of
    Sam: no merge fields, no "Debt collection" interest or tag, no language. It keeps all but the merge fields."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    group = ContactGroup.objects.create(identifier="debt-collection", shop=shop, name="Debt collection")
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(tag_group_ids=[group.pk],
                                                                      send_unconsented=False)
    configuration.refresh_from_db()
    ann_email = "ann.grp.aud23@fastmail.com"
    logged_in_account(shop, django_user_model, "ann23grp", ann_email, proven=True)
    send_due(rounds=3)
    own = "sam.grp.aud23@fastmail.com"
    user, sam = registered_account(shop, django_user_model, "sam23grp", own, first_name="Sam", last_name="Private",
                                   language="fi")
    group.members.add(sam)
    presses_on_account_page(user, subscribe=True)
    member = emulator.get_member(api_key, list_id, own)
    assert member["status"] == "subscribed" and member["merge_fields"]["FNAME"] == "Sam"
    sams_interests = sorted(key for key, on in member["interests"].items() if on)
    sams_tags = sorted(tag["name"] for tag in member["tags"])
    assert sams_interests and "Debt collection" in sams_tags and member["language"] == "fi", (
        member["interests"], sams_tags, member.get("language"))
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_email
    sam.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    assert [m["email"] for m in row_of(sam).members_left] == [own]
    tom = PersonContact.objects.create(email=own, first_name="Tom")
    tom.add_to_shop(shop)
    send_due(rounds=3)
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, own)
    assert left is not None and left["merge_fields"].get("FNAME") != "Sam"  # kept for Tom, names cleared
    kept = sorted(key for key, on in left["interests"].items() if on and key in sams_interests)
    assert not kept, ("Sam was erased; the member he left at %s, kept for Tom (who never wrote it), is still in "
                      "Sam's group interests: %r" % (own, kept))


@pytest.mark.usefixtures("commits")
def test_an_erasure_clears_the_fields_the_shop_created_and_unmapped_since_from_a_left_member_kept_for_another(
        admin_client, shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """``mapped_tags`` is the shop's mapping at the erasure. The shop had mapped Sam's billing address (ADDRESS) and
    the GROUPS field it created; Sam's member carried "Debt collection" and his street address. Sam typed Ann's proven
    address: his member at sam@ archived (members_left). The shop then unmapped both fields (a member written before
    is sent GROUPS empty at its next write, and ADDRESS is left as it is: "a person may have filled it"); an archived
    left member is never written again. The staff add Tom with sam@; Sam has his account deleted. Expected: the
    member kept for Tom no longer holds Sam's groups nor his street address: every field still holding what it held
    when Sam left the member is cleared, mapped or not (the digests recorded in members_left)."""
    from shoop_mailchimp.sync.jobs import run_due_jobs
    from tests.admin.conftest import post_shop_form, saved
    from tests.sync.test_audience_data import address, read_audience_fields

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    read_audience_fields(configuration)
    group = ContactGroup.objects.create(identifier="debt-collection-2", shop=shop, name="Debt collection")
    assert saved(post_shop_form(admin_client, shop, create_merge_fields=["groups"]))
    run_due_jobs(shop.pk)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_unconsented=False)
    ann_email = "ann.unmap.aud23@fastmail.com"
    logged_in_account(shop, django_user_model, "ann23unmap", ann_email, proven=True)
    send_due(rounds=3)
    own = "sam.unmap.aud23@fastmail.com"
    user, sam = registered_account(shop, django_user_model, "sam23unmap", own, first_name="Sam", last_name="Private",
                                   default_billing_address=address(name="Sam Private", street="Debtors' Lane 13"))
    group.members.add(sam)
    presses_on_account_page(user, subscribe=True)
    fields = emulator.get_member(api_key, list_id, own)["merge_fields"]
    assert fields["GROUPS"] == "Debt collection" and fields["ADDRESS"]["addr1"].startswith("Debtors"), fields
    sam = PersonContact.objects.get(pk=sam.pk)
    sam.email = ann_email
    sam.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, own)["status"] == "archived"
    assert saved(post_shop_form(admin_client, shop, merge_groups="", merge_billing_address=""))
    send_due(rounds=3)
    tom = PersonContact.objects.create(email=own, first_name="Tom")
    tom.add_to_shop(shop)
    send_due(rounds=3)
    get_person_contact(user).delete()
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, own)
    assert left is not None and left["merge_fields"].get("FNAME") != "Sam"  # kept for Tom, names cleared
    stays = {tag: left["merge_fields"].get(tag) for tag in ("GROUPS", "ADDRESS") if left["merge_fields"].get(tag)}
    assert not stays, ("Sam was erased; the member he left at %s, kept for Tom, still holds the fields the shop "
                       "unmapped since: %r" % (own, stays))
