"""Delivering contacts: the list member (consent, names, group interests), then the customer."""
import hashlib
import json

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from shuup.core.models import Contact, ContactGroup

from shoop_mailchimp import consent
from shoop_mailchimp.mailchimp import customers, members
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.models import ContactGroupInterest


class ContactPlan:
    """Everything one contact's delivery sends, computed without touching the network."""

    def __init__(self, contact, row, configuration, group_ids, interest_ids):
        self.contact = contact
        self.row = row
        self.shop_email = members.mailchimp_email(contact.email)
        if _same(row.shop_email, self.shop_email) and row.email and not _same(row.email, self.shop_email):
            # The subscriber changed their address in Mailchimp (an upemail webhook) and the shop's
            # has not changed since: keep addressing Mailchimp's, do not move the member back.
            self.email = row.email
        else:
            self.email = self.shop_email
        self.permission = bool(contact.marketing_permission)
        first, last, _ = customers.contact_names(contact)
        self.status_change = consent.status_change(self.permission, row.opt_in, configuration.double_opt_in)
        self.member = {
            "email_address": self.email,
            "status_if_new": consent.status_if_new(self.permission, configuration.double_opt_in),
            "merge_fields": {"FNAME": first, "LNAME": last},
        }
        if interest_ids:
            self.member["interests"] = {
                interest_id: group_id in group_ids for group_id, interest_id in interest_ids.items()
            }
        self.customer = dict(customers.customer_payload(contact, opt_in=False), email_address=self.email)
        self.fingerprint = hashlib.sha256(
            json.dumps([self.member, self.customer], sort_keys=True).encode("utf-8")
        ).hexdigest()
        self.previous_email = row.email if row.email and not _same(row.email, self.email) else ""

    @property
    def unchanged(self):
        return (
            self.fingerprint == self.row.fingerprint
            and self.status_change is None
            and not self.previous_email
        )


def _same(email, other):
    return bool(email) and email.lower() == (other or "").lower()


def unsendable(contact):
    """("skipped" or "failed", reason) when the contact cannot be sent at all, else None.

    Nothing to send is a skip; an address nobody can deliver to is a failure the shop must fix.
    """
    if contact is None:
        return "skipped", "the contact no longer exists"
    if not (contact.email or "").strip():
        return "skipped", "the contact has no e-mail address"
    try:
        validate_email((contact.email or "").strip())
    except ValidationError:
        return "failed", "%r is not a valid e-mail address" % contact.email
    return None


def load_contacts(rows):
    ids = [row.object_id for row in rows]
    return {contact.pk: contact for contact in Contact.objects.filter(pk__in=ids).select_related(
        "default_billing_address"
    )}


def load_group_ids(rows):
    """{contact id: set of group ids} in one query."""
    through = ContactGroup.members.through
    memberships = {}
    for contact_id, group_id in through.objects.filter(
        contact_id__in=[row.object_id for row in rows]
    ).values_list("contact_id", "contactgroup_id"):
        memberships.setdefault(contact_id, set()).add(group_id)
    return memberships


def load_interest_ids(shop_id):
    """{group id: interest id} of the shop's mapped groups."""
    return dict(ContactGroupInterest.objects.filter(shop_id=shop_id).values_list("group_id", "interest_id"))


def send_contact(client, configuration, plan, journal):
    """Make Mailchimp hold ``plan``; returns the member status Mailchimp reports."""
    contact_id = plan.contact.pk
    if plan.previous_email:
        moved = _move_member(client, configuration.list_id, plan.previous_email, plan.email)
        journal.add("member.email", "E-mail changed from %s to %s%s" % (
            plan.previous_email, plan.email, "" if moved else " (no member under the old e-mail)"
        ), contact_id=contact_id)
    member_payload = dict(plan.member)
    if plan.status_change:
        member_payload["status"] = plan.status_change
    member = members.upsert_member(client, configuration.list_id, member_payload)
    status = member.get("status", "")
    journal.add(
        "member.upsert",
        "Member %s is %s%s" % (plan.email, status, " (consent changed in the shop: %s)" % plan.status_change
                               if plan.status_change else ""),
        contact_id=contact_id,
        extra={"status": status, "status_change": plan.status_change, "interests": plan.member.get("interests")},
    )
    customer_payload = dict(plan.customer, opt_in_status=status == members.SUBSCRIBED)
    customers.upsert_customer(client, configuration.store_id, customer_payload)
    journal.add("customer.upsert", "Customer %s sent" % customer_payload["id"], contact_id=contact_id)
    return status


def _move_member(client, list_id, old_email, new_email):
    try:
        client.lists.members.update(list_id, members.subscriber_hash(old_email), {"email_address": new_email})
    except MailchimpAPIError as error:
        if error.status in (400, 404):
            return False
        raise
    return True


def erase_contact(client, configuration, row, journal):
    """Forget the person in Mailchimp for good: the member (by the e-mail last sent) and the customer."""
    if row.email:
        try:
            members.delete_member_permanently(client, configuration.list_id, row.email)
        except MailchimpNotFound:
            pass
        journal.add("member.delete_permanent", "Member permanently deleted (erasure)", contact_id=row.object_id)
    if customers.delete_customer(client, configuration.store_id, customers.customer_id_for(row.object_id)):
        journal.add("customer.delete", "Customer deleted (erasure)", contact_id=row.object_id)
    return "synced", {"email": "", "shop_email": "", "fingerprint": "", "opt_in": None, "member_status": "erased"}
