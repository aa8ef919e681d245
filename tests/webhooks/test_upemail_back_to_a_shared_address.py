"""Found by independent review aud34 (issue 19), F2 (data): a first fix of aud32 F1 sent a row whose upemail address
held no member back to the shop's address, which another contact's member had meanwhile: its next change wrote its
names over that member. The row follows its own member by its ``unique_email_id`` now, and never writes elsewhere."""

import pytest
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import moved_twice_in_mailchimp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("second_delivery_late", [False, True], ids=["control-in-time", "second-delivery-late"])
def test_a_contact_sent_back_to_its_shop_address_leaves_the_member_another_contact_made_there(
        shop, configuration, mailchimp_account, client, settings, second_delivery_late):
    """Harm (data): Yolanda's member (her names) is overwritten with Xavier's names; the member is hers (her first
    send created it), and Xavier's own member is elsewhere (at xavier@home).

    Steps: Xavier consents, his member is subscribed at x@ (his shop address). In Mailchimp he changes his address to
    x@work, then x@home (two legitimate upemails); the first delivery reaches the shop (his row addresses x@work), the
    second one fails and is retried later. The staff add Yolanda with the address x@ (she has it now). The sends
    run: Yolanda's first send reads x@, finds no member (Mailchimp moved Xavier's on) and creates her own there
    ("Yolanda"). Xavier's send (0c802f7) reads x@work, finds none, and goes back to x@ (``facts = {"email":
    shop_email}``); the late delivery then matches no row. Xavier corrects his last name in the shop: his send
    writes his names onto the member at x@ as his own (his row still says ``foreign_member`` False, its member id
    is the one at x@home; nothing reads whose the member at x@ is), over Yolanda's. Control: the second delivery in
    time; the row follows Xavier to x@home and Yolanda's member keeps her names."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")  # sends run at send_due
    emulator, api_key, list_id = mailchimp_account
    tag = "late" if second_delivery_late else "ontime"
    email = "xavier.%s@fastmail.com" % tag
    work, home = "xavier.%s@work.example.com" % tag, "xavier.%s@home.example.com" % tag
    xavier = new_person(permission=True, email=email, first_name="Xavier", last_name="Before")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Xavier", "setup"
    deliver_t1 = moved_twice_in_mailchimp(client, configuration, mailchimp_account, email, work, home,
                                          second_delivery_late)
    yolanda = PersonContact.objects.create(email=email, first_name="Yolanda", last_name="Young")
    yolanda.add_to_shop(shop)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Yolanda", (
        "setup: Yolanda's first send created her member at %s" % email)
    if second_delivery_late:
        deliver_t1()
        send_due(rounds=2)
    xavier = PersonContact.objects.get(pk=xavier.pk)
    xavier.last_name = "After"
    xavier.save()
    send_due(rounds=3)
    fields = emulator.get_member(api_key, list_id, email)["merge_fields"]
    assert (fields["FNAME"], fields["LNAME"]) == ("Yolanda", "Young"), (
        "Xavier's names were written over Yolanda's member at %s: %r (Xavier's row addresses %s; his member at %s: "
        "%r; status at x@: %s)" % (email, (fields["FNAME"], fields["LNAME"]), row_of(xavier).email, home,
                 emulator.get_member(api_key, list_id, home)["merge_fields"]["LNAME"],
                 emulator.get_member(api_key, list_id, email)["status"]))
