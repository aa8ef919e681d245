"""Comparing the shop with the emulator: lost contacts and consent violations."""

from shuup.core.models import Contact

from shoop_mailchimp.mailchimp.members import mailchimp_email
from shoop_mailchimp.models import ContactGroupInterest, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.kinds.fields import contact_names
from tests.helpers import make_all_due
from tests.reliability import registry


def drain_until_settled(max_drains=50):
    """Drain with every backoff skipped until nothing is pending; returns how many drains it took."""
    for number in range(1, max_drains + 1):
        make_all_due()
        drain()
        if not SyncState.objects.filter(status__in=(SyncStatus.PENDING, SyncStatus.SENDING)).exists():
            return number
    raise AssertionError("still pending after %d drains" % max_drains)


def contact_differences(emulator, api_key, list_id, configuration, contacts=None):
    """Why each contact's state in Mailchimp is not the shop's: {contact id: [reasons]}."""
    contacts = contacts if contacts is not None else Contact.objects.exclude(email="").exclude(email__isnull=True)
    interest_ids = dict(ContactGroupInterest.objects.filter(shop_id=configuration.shop_id).values_list(
        "group_id", "interest_id"
    ))
    differences = {}
    for contact in contacts:
        contact.refresh_from_db()
        reasons = []
        member = emulator.get_member(api_key, list_id, mailchimp_email(contact.email))
        expected_status = "subscribed" if contact.marketing_permission else "transactional"
        if member is None:
            reasons.append("no member")
        else:
            if member["status"] != expected_status:
                reasons.append("status %s, not %s" % (member["status"], expected_status))
            first, last, _ = contact_names(contact)
            if (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) != (first, last):
                reasons.append("merge fields %r" % member["merge_fields"])
            groups = set(contact.groups.values_list("pk", flat=True))
            for group_id, interest_id in interest_ids.items():
                if member["interests"].get(interest_id) != (group_id in groups):
                    reasons.append("interest of group %s" % group_id)
        customer = emulator.get_customer(api_key, configuration.store_id, str(contact.pk))
        if customer is None:
            reasons.append("no customer")
        elif customer["email_address"] != mailchimp_email(contact.email):
            reasons.append("customer e-mail %s" % customer["email_address"])
        state = SyncState.objects.contacts().filter(shop_id=configuration.shop_id, object_id=contact.pk).first()
        if state is None or state.status != SyncStatus.SYNCED:
            reasons.append("sync state %s" % (state.status if state else "missing"))
        if reasons:
            differences[contact.pk] = reasons
    return differences


def assert_nothing_lost(emulator, api_key, list_id, configuration, contacts=None):
    configuration.refresh_from_db()
    differences = contact_differences(emulator, api_key, list_id, configuration, contacts)
    registry.tally("contacts_lost", len(differences))
    assert not differences, "contacts whose Mailchimp state is not the shop's: %s" % differences


def consent_violations(emulator):
    """Members subscribed (or pending confirmation) whose e-mail belongs to no contact with consent
    (nor to a guest who ticked the marketing box at checkout)."""
    from shuup.core.models import Order

    consenting = {mailchimp_email(email).lower() for email in Contact.objects.filter(marketing_permission=True).exclude(
        email__isnull=True
    ).values_list("email", flat=True)}
    consenting |= {mailchimp_email(email).lower() for email in Order.objects.filter(
        customer__isnull=True, marketing_permission=True
    ).exclude(email="").values_list("email", flat=True)}
    violations = []
    for account in emulator.state.values():
        for audience in account["lists"].values():
            for member in audience["members"]:
                if member["status"] in ("subscribed", "pending") and member["email_address"].lower() not in consenting:
                    violations.append(member["email_address"])
    return violations


def failed_requests(emulator):
    return [request for request in emulator.requests if request["status"] == 0 or request["status"] >= 400]
