"""Where a Shuup contact becomes a Mailchimp list member (consent, names, group interests) and an
eCommerce customer, and where an erased contact is forgotten in Mailchimp."""
import copy
import hashlib
import json
from datetime import timedelta
from datetime import timezone as dt_timezone

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import ugettext as _
from django.utils.translation import ugettext_lazy
from shuup.core.models import CompanyContact, Contact, ContactGroup, MutableAddress, Order, PersonContact

from shoop_mailchimp import consent, encryption, member_events, shop_consent
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp import batches, errors, members, resources
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.mailchimp.members import address_key, domain_problem
from shoop_mailchimp.mailchimp.resources import customer_path, member_path, members_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import (
    ConsentRequest,
    ContactGroupInterest,
    LogKind,
    ProvenAddress,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.shops import address_keys, shop_contacts, shop_contacts_with_address, shop_contacts_with_keys
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.batch_phase import BatchPhase, operation_failed, result_outcome
from shoop_mailchimp.sync.kinds import merge_fields, tags
from shoop_mailchimp.sync.kinds.audience_fields import AudienceFieldsLearnt, same_fields
from shoop_mailchimp.sync.kinds.declarations import IN_IMPORT, KEEPING_MEMBER, AdminItem
from shoop_mailchimp.sync.kinds.fields import (
    COMPANY,
    PERSON,
    address_payload,
    contact_kind,
    contact_names,
    currency_places,
    mailchimp_email,
)
from shoop_mailchimp.sync.kinds.group import named_groups
from shoop_mailchimp.sync.kinds.languages import mailchimp_language
from shoop_mailchimp.sync.outcome import Outcome, Result, plain_reason

KIND = SyncKind.CONTACT
#: How the admin names the kind and a failed item of it.
ADMIN = AdminItem(
    title=ugettext_lazy("Contacts"),
    model=Contact,
    label=lambda contact: contact.name or contact.email,
    advice=ugettext_lazy(
        "Correct the contact's e-mail address or name in the shop and save it (that sends it again), or press "
        "%(button)s."),
)

#: "Sync existing" sends them in the store's import; a store created again gets them keeping their member.
SYNC_EXISTING = IN_IMPORT
FOR_NEW_STORE = KEEPING_MEMBER
#: A member names its groups' interests: due group rows go before a burst of contacts.
DEPENDS_ON = (SyncKind.GROUP,)
#: Many due at once go through batches (:mod:`shoop_mailchimp.sync.bursts`).
IN_BURSTS = True
#: The drainer sends this kind's rows in DRAIN_CONCURRENCY threads (each send is a few independent requests).
SEND_CONCURRENTLY = True


def log_target(object_id):
    """The log entry fields that name the row's object."""
    return {"contact_id": object_id}


def unsent_ids(shop_id):
    """The shop's contacts the sync has never seen (no sync-state row): what a bulk sync sends."""
    known = SyncState.objects.filter(shop_id=shop_id, kind=KIND).values("object_id")
    return shop_contacts(shop_id).exclude(pk__in=known).values_list("pk", flat=True)


def customer_id_for(contact_id):
    return str(contact_id)


def customer_payload(contact, email):
    """The eCommerce customer; ``opt_in_status`` is set by the caller from the member's status."""
    first, last, company = contact_names(contact)
    payload = {"id": customer_id_for(contact.pk), "email_address": email, "opt_in_status": False}
    if first and not company:
        payload["first_name"] = first
    if last:
        payload["last_name"] = last
    if company:
        payload["company"] = company
    address = address_payload(contact.default_billing_address)
    if address:
        payload["address"] = address
    return payload


class ContactData:
    """What planning reads of a contact. Loaded with ``values()``: instantiating a Shuup PersonContact or
    CompanyContact costs a query each (its ``__init__`` looks the default tax group up), which was half
    the queries of a drain."""

    __slots__ = ("pk", "kind", "email", "marketing_permission", "name", "first_name", "last_name",
                 "default_billing_address", "default_shipping_address", "phone", "birth_date", "language")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


def load_contacts(ids):
    """{contact id: ContactData} in two queries (contacts, then their addresses)."""
    found = list(Contact.objects.filter(pk__in=ids).values(
        "pk", "polymorphic_ctype_id", "email", "marketing_permission", "name", "personcontact__first_name",
        "personcontact__last_name", "default_billing_address_id", "default_shipping_address_id", "phone",
        "personcontact__birth_date", "_language"))
    kinds = {type_id: _kind_of_type(type_id) for type_id in {values["polymorphic_ctype_id"] for values in found}}
    addresses = MutableAddress.objects.in_bulk(
        {values[name] for values in found for name in ("default_billing_address_id", "default_shipping_address_id")
         if values[name]})
    return {values["pk"]: ContactData(
        pk=values["pk"], kind=kinds.get(values["polymorphic_ctype_id"], ""), email=values["email"],
        marketing_permission=values["marketing_permission"], name=values["name"],
        first_name=values["personcontact__first_name"], last_name=values["personcontact__last_name"],
        default_billing_address=addresses.get(values["default_billing_address_id"]),
        default_shipping_address=addresses.get(values["default_shipping_address_id"]),
        phone=values["phone"], birth_date=values["personcontact__birth_date"], language=values["_language"],
    ) for values in found}


def _kind_of_type(type_id):
    """PERSON, COMPANY or "" for a contact's content type (a subclass of PersonContact is a person)."""
    model = ContentType.objects.get_for_id(type_id).model_class() if type_id else None
    if model and issubclass(model, PersonContact):
        return PERSON
    if model and issubclass(model, CompanyContact):
        return COMPANY
    return ""


class AudienceFacts:
    """What the audience's merge fields and tags are made of besides the contact itself: the merge fields to
    fill, the contact's orders in the shop and its groups' names. Empty by default (nothing to fill, no tag)."""

    def __init__(self, mapping=None, order_count=0, first_order_on=None, total_spent=None, group_names=None,
                 clears=None, places=2):
        self.mapping = mapping or {}
        #: The decimal places of the shop's currency: an amount (Total spent) keeps them, as its orders do.
        self.places = places
        #: {tag: when unmapped} of the fields the shop created and no longer fills (merge_fields.fields_to_clear).
        self.clears = clears or {}
        self.order_count = order_count
        self.first_order_on = first_order_on
        self.total_spent = total_spent
        self.group_names = group_names or {}


class Context:
    """What planning a slice of contact rows needs, loaded in four queries (seven with interests, orders and
    groups' names for merge fields or tags: the shop's other contacts of the same addresses, their orders, the
    groups' names), and one more when a row left its address last sent (erased, or the contact's address changed):
    whether another of the shop's contacts still has it, or has the contact's new address (:func:`held_by_others`);
    under double opt-in, one more when a contact's address changed: whether its owner proved the new one
    (:func:`moved_to_proven`).

    Several contacts of the shop may have one address (a newsletter block's contact and the account registered
    later): Mailchimp has one member of it, and whichever is sent last writes it. So the facts only the shop knows
    (orders, groups: :data:`merge_fields.SHOP_OWNED`, the interests and the tags made of them) are those of all the
    shop's contacts with the address: a contact without orders never clears another's total spent, nor one
    without groups another's interests."""

    def __init__(self, configuration, rows):
        ids = [row.object_id for row in rows]
        self.contacts = load_contacts(ids)
        # A consent given in another shop only (its storefront) is no consent in this one: see shop_consent.
        for contact_id in shop_consent.withheld(configuration.shop_id, self.contacts):
            self.contacts[contact_id].marketing_permission = False
        self.mapping = merge_fields.effective_map(configuration)
        self.clears = merge_fields.fields_to_clear(configuration)
        self.places = currency_places(configuration.shop.currency)
        wants_orders = bool(configuration.customer_tag or {"customer_since", "total_spent"} & set(self.mapping))
        wants_groups = bool(configuration.tag_group_ids or "groups" in self.mapping)
        self.interest_ids = dict(ContactGroupInterest.objects.filter(shop_id=configuration.shop_id).values_list(
            "group_id", "interest_id"))
        #: {contact id: the ids of the shop's contacts with its address, itself included}
        self.same_address = same_address(configuration.shop_id, self.contacts) if (
            wants_orders or wants_groups or self.interest_ids) else {}
        everyone = set(ids).union(*self.same_address.values())
        self.group_ids = {}
        through = ContactGroup.members.through
        for contact_id, group_id in through.objects.filter(contact_id__in=everyone).values_list(
            "contact_id", "contactgroup_id"
        ):
            self.group_ids.setdefault(contact_id, set()).add(group_id)
        self.orders = {}
        if wants_orders:
            self.orders = {facts["customer_id"]: facts for facts in Order.objects.filter(
                shop_id=configuration.shop_id, customer_id__in=everyone).valid().values("customer_id").annotate(
                count=Count("id"), first=Min("created_on"), total=Sum("taxful_total_price_value"))}
        #: The ids of the rows whose address last sent (``row.email``) another of the shop's contacts still has:
        #: the member of it is that contact's too, neither moved to the row's new address nor erased with the row.
        #: And the ids of the rows of a contact whose new address (changed since it was sent) another of the shop's
        #: contacts has: the member there is that contact's, whose status a contact arriving without its own
        #: consent does not change.
        self.held_by_others, self.arrived_at_held = held_by_others(configuration.shop_id, rows, self.contacts)
        #: Under double opt-in, the ids of the rows of a contact whose new address (changed since it was sent) its
        #: owner proved theirs: its subscribed member moves there as it is; onto any other address, only pending.
        self.moved_to_proven = moved_to_proven(rows, self.contacts) if configuration.double_opt_in else set()
        #: The ids of the rows of a contact arriving at its address (its first send, or a move) or kept off the
        #: member there (``foreign_member``) whose owner proved the address theirs: the member there is its own.
        self.proven = proven_owners(rows, self.contacts)
        #: The ids of the rows of a contact arriving (its first send, or a move) at an address another contact proved
        #: theirs: the member there is that contact's, whoever's send creates it.
        self.proven_by_another = proven_by_others(rows, self.contacts, self.proven)
        #: The ids of the rows (a first send tried again, a move) whose first claim's second another contact's row
        #: shares (:func:`stamps_shared`).
        self.stamp_shared = stamps_shared(configuration.shop_id, rows, self.contacts)
        #: {erased row's object id: the addresses of its members left (``SyncState.members_left``) another of the
        #: shop's contacts has to do with}: those members may be theirs too, never deleted with the erased contact.
        self.left_shared = members_left_shared(configuration.shop_id, rows)
        self.group_names = {}
        if wants_groups:
            wanted = {group_id for group_ids in self.group_ids.values() for group_id in group_ids}
            groups = named_groups(configuration).filter(pk__in=wanted).prefetch_related("translations")
            self.group_names = {group.pk: group.safe_translation_getter("name", any_language=True) or group.identifier
                                or str(group.pk) for group in groups}

    def address_group_ids(self, contact_id):
        """The groups of the shop's contacts with the contact's address: the member's interests and groups."""
        others = self.same_address.get(contact_id) or {contact_id}
        return set().union(*(self.group_ids.get(other, ()) for other in others))

    def facts(self, contact_id):
        """The contact's :class:`AudienceFacts`: its orders and groups with those of the shop's other contacts
        with its address (one member in Mailchimp)."""
        others = self.same_address.get(contact_id) or {contact_id}
        orders = [self.orders[other] for other in others if other in self.orders]
        firsts = [facts["first"] for facts in orders if facts.get("first")]
        totals = [facts["total"] for facts in orders if facts.get("total") is not None]
        group_ids = self.address_group_ids(contact_id)
        return AudienceFacts(
            mapping=self.mapping, clears=self.clears, places=self.places,
            order_count=sum(facts.get("count", 0) for facts in orders),
            first_order_on=timezone.localtime(min(firsts)).date() if firsts else None,
            total_spent=sum(totals) if totals else None,
            group_names={group_id: self.group_names[group_id] for group_id in group_ids
                         if group_id in self.group_names})


def same_address(shop_id, contacts):
    """{contact id: the ids of the shop's contacts with the same address (any letter case, either form of an
    internationalized domain, however stored: their address keys), itself included} for ``contacts`` ({id:
    ContactData}), in one indexed query."""
    keys = {pk: address_key(contact.email) for pk, contact in contacts.items() if (contact.email or "").strip()}
    by_key = {}
    if keys:
        for pk, key in shop_contacts_with_keys(shop_id, keys.values()).values_list("pk", "mailchimp_address__key"):
            by_key.setdefault(key, set()).add(pk)
    return {pk: by_key.get(key, set()) | {pk} for pk, key in keys.items()}


def held_by_others(shop_id, rows, contacts):
    """(left, arrived) for the ``rows`` (to erase, or of a contact whose address changed since it was sent), in one
    query, none when no row left its address: ``left``, the ids of those whose address last sent another of the
    shop's contacts still has (any spelling of the mailbox: their address keys; Mailchimp has one member of the
    address, the other contact's); ``arrived``, the ids of those whose contact's new address another of the shop's
    contacts has (the member there is that contact's), or the address of a contact without consent never sent yet
    (its first send may reach a member that is another's)."""
    left, arrived = {}, {}
    for row in rows:
        contact = contacts.get(row.object_id)
        if not (row.email or "").strip():
            if (contact is not None and not row.erase and not row.member_status and (contact.email or "").strip()
                    and not contact.marketing_permission):
                arrived[row.object_id] = contact.email
            continue
        if row.erase or contact is None:
            left[row.object_id] = row.email
        elif address_key(row.email) != address_key(contact.email):
            left[row.object_id] = row.email
            arrived[row.object_id] = contact.email
    holders = address_holders(shop_id, list(left.values()) + list(arrived.values()))
    return _held(left, holders), _held(arrived, holders)


def moved_to_proven(rows, contacts):
    """The ids of the ``rows`` of a contact whose address changed since it was sent to one its owner proved theirs
    (:class:`~shoop_mailchimp.models.ProvenAddress`, the activation link mailed to it), in one query (none when no
    row moved)."""
    moved = {row.object_id: shop_consent.normalised(contacts[row.object_id].email) for row in rows
             if not row.erase and (row.email or "").strip() and row.object_id in contacts
             and address_key(row.email) != address_key(contacts[row.object_id].email)}
    if not moved:
        return set()
    return {contact_id for contact_id, email in ProvenAddress.objects.filter(contact_id__in=list(moved)).values_list(
        "contact_id", "email") if email and moved.get(contact_id) == email}


def proven_owners(rows, contacts):
    """The ids of the ``rows`` whose contact's address its owner proved theirs
    (:class:`~shoop_mailchimp.models.ProvenAddress`), of the rows that decide or keep whose the member of the address
    is (:attr:`ContactPlan.owns_member`): a contact arriving there (its first send, or a changed address), or one
    kept off a member not its own. One query, none when no row is such."""
    asked = {row.object_id: shop_consent.normalised(contacts[row.object_id].email) for row in rows
             if not row.erase and row.object_id in contacts and (
                 not (row.email or "").strip() or getattr(row, "foreign_member", False)
                 or address_key(row.email) != address_key(contacts[row.object_id].email))}
    asked = {contact_id: email for contact_id, email in asked.items() if email}
    if not asked:
        return set()
    return {contact_id for contact_id, email in ProvenAddress.objects.filter(contact_id__in=list(asked)).values_list(
        "contact_id", "email") if email and asked.get(contact_id) == email}


def proven_by_others(rows, contacts, proven):
    """The ids of the ``rows`` of a contact arriving at its address (its first send, or a move) that another contact
    proved theirs (:class:`~shoop_mailchimp.models.ProvenAddress`), the row's own owner not (``proven``). One query,
    none when no row is such."""
    asked = {row.object_id: shop_consent.normalised(contacts[row.object_id].email) for row in rows
             if not row.erase and row.object_id in contacts and row.object_id not in proven and (
                 not (row.email or "").strip() or address_key(row.email) != address_key(contacts[row.object_id].email))}
    asked = {contact_id: email for contact_id, email in asked.items() if email}
    if not asked:
        return set()
    provers = {}
    for contact_id, email in ProvenAddress.objects.filter(email__in=set(asked.values())).values_list(
            "contact_id", "email"):
        provers.setdefault(email, set()).add(contact_id)
    return {contact_id for contact_id, email in asked.items() if provers.get(email, set()) - {contact_id}}


def stamps_shared(shop_id, rows, contacts):
    """The ids of the ``rows`` whose first claim's second (the signup time a member their earlier attempt created
    carries) another contact's row has too, so that a member signed up in it may be another's
    (:func:`created_by_an_earlier_attempt`): for a first send tried again, a row of another of the shop's contacts of
    the address (claimed together, either send may have created the member); for a move, any other row of the shop
    (the member at the new address may be one another contact's send created in that second, and left there). Two
    queries at most, none when no row is such."""
    retried = {row.object_id: row for row in rows if not row.erase and not (row.email or "").strip()
               and row.first_claimed_at and row.claimed_at != row.first_claimed_at
               and (getattr(contacts.get(row.object_id), "email", "") or "").strip()}
    moving = {row.object_id: row for row in rows if not row.erase and (row.email or "").strip()
              and row.first_claimed_at and row.object_id in contacts
              and address_key(row.email) != address_key(contacts[row.object_id].email)}
    shared = set()
    if retried:
        holders = address_holders(shop_id, [contacts[pk].email for pk in retried])
        others = {pk: holders.get(address_key(contacts[pk].email), set()) - {pk} for pk in retried}
        stamps = {}
        for object_id, first_claimed_at in SyncState.objects.filter(
                shop_id=shop_id, kind=KIND, object_id__in=set().union(*others.values()),
                first_claimed_at__isnull=False).values_list("object_id", "first_claimed_at"):
            stamps[object_id] = signup_stamp(first_claimed_at)
        shared |= {pk for pk, row in retried.items()
                   if signup_stamp(row.first_claimed_at) in {stamps.get(other) for other in others[pk]}}
    if moving:
        seconds = {signup_stamp(row.first_claimed_at) for row in moving.values()}
        within = Q()
        for second in seconds:
            within |= Q(first_claimed_at__gte=second, first_claimed_at__lt=second + timedelta(seconds=1))
        claimed_in = {}
        for object_id, first_claimed_at in SyncState.objects.filter(within, shop_id=shop_id, kind=KIND).values_list(
                "object_id", "first_claimed_at"):
            claimed_in.setdefault(signup_stamp(first_claimed_at), set()).add(object_id)
        shared |= {pk for pk, row in moving.items() if claimed_in.get(signup_stamp(row.first_claimed_at), set()) - {pk}}
    return shared


def members_left_shared(shop_id, rows):
    """{object id: address keys} of the erased ``rows``' members left under earlier addresses
    (``SyncState.members_left``) that another of the shop's contacts (not erased too) has to do with: it has the
    address now, its row last sent it (however long ago: a move not sent leaves the row there), or it left that
    member there too (the same ``unique_email_id``). Three queries at most, none when no row left any."""
    left = {row.object_id: [(address_key(member.get("email", "")), member.get("unique_email_id") or "")
                            for member in getattr(row, "members_left", None) or [] if member.get("email")]
            for row in rows if row.erase and getattr(row, "members_left", None)}
    left = {object_id: entries for object_id, entries in left.items() if entries}
    if not left:
        return {}
    emails = [member.get("email", "") for row in rows if row.object_id in left for member in row.members_left]
    related = {key: set(ids) for key, ids in address_holders(shop_id, emails).items()}
    rows_of_shop = SyncState.objects.contacts().filter(shop_id=shop_id, erase=False)  # an erased one has nothing
    within = Q()
    for email in set(emails):
        within |= Q(email__iexact=email)
    for object_id, email in rows_of_shop.filter(within).values_list("object_id", "email"):
        related.setdefault(address_key(email), set()).add(object_id)
    left_by_others = {}
    for row in state.rows_with_members_left(shop_id, SyncKind.CONTACT).filter(erase=False).only(
            "object_id", "members_left"):
        for member in row.members_left or []:
            entry = (address_key(member.get("email", "")), member.get("unique_email_id") or "")
            left_by_others.setdefault(entry, set()).add(row.object_id)
    return {object_id: {key for key, unique_email_id in entries
                        if related.get(key, set()) - {object_id}
                        or left_by_others.get((key, unique_email_id), set()) - {object_id}}
            for object_id, entries in left.items()}


def address_holders(shop_id, emails):
    """{address key: the ids of the shop's contacts with it} of these addresses, in two queries (none for no
    address): the contacts with the address, and those whose member is there (:func:`rows_at`)."""
    keys = address_keys(emails)
    holders = {}
    if keys:
        for pk, key in shop_contacts_with_keys(shop_id, keys).values_list("pk", "mailchimp_address__key"):
            holders.setdefault(key, set()).add(pk)
        for key, contact_ids in rows_at(shop_id, emails).items():
            holders.setdefault(key, set()).update(contact_ids)
    return holders


def rows_at(shop_id, emails):
    """{address key: contact ids} of the shop's contacts whose member is at one of ``emails`` as their rows last
    learnt, their own address in the shop another (its owner moved it in Mailchimp: an ``upemail``): the member is
    theirs too (review aud57 F3: an erasure there deleted for good the member another contact's row followed). Not a
    row whose contact changed its address in the shop since it was last sent (a move never sent, the contact not
    consenting: aud22 F3), which has left that member."""
    lowered = {email.strip().lower() for email in emails if (email or "").strip()}
    if not lowered:
        return {}
    rows = list(SyncState.objects.filter(shop_id=shop_id, kind=KIND, erase=False).annotate(
        email_lower=Lower("email")).filter(email_lower__in=lowered).values_list("object_id", "email", "shop_email"))
    current = dict(Contact.objects.filter(pk__in=[row[0] for row in rows]).values_list("pk", "email"))
    found = {}
    for contact_id, email, shop_email in rows:
        if (shop_email or "").strip() and address_key(current.get(contact_id) or "") == address_key(shop_email):
            found.setdefault(address_key(email), set()).add(contact_id)
    return found


def holders_of(shop_id, email):
    """The shop's contacts that have the member of ``email``: with the address, or following its member there
    (:func:`rows_at`)."""
    followed = set().union(*rows_at(shop_id, [email]).values())
    with_address = shop_contacts_with_keys(shop_id, address_keys([email]))
    return with_address | shop_contacts(shop_id).filter(pk__in=followed) if followed else with_address


def _held(emails, holders):
    """The ids of ``emails`` ({contact id: an address}) whose address another contact in ``holders`` has."""
    return {object_id for object_id, email in emails.items()
            if (email or "").strip() and holders.get(address_key(email), set()) - {object_id}}


def load(configuration, rows):
    return Context(configuration, rows)


def unsendable(contact):
    """The Outcome when the contact cannot be sent at all, else None.

    Nothing to send is a skip; an address nobody can deliver to is a failure the shop must fix.
    """
    if contact is None:
        return Outcome.skipped("the contact no longer exists")
    return address_problem(contact.email)


#: The longest address there is (RFC 5321), as the sync state keeps the address last sent: Shuup takes 256 characters
#: in a contact's e-mail, and its validator checks no length.
MAX_ADDRESS = SyncState._meta.get_field("email").max_length


def address_problem(email, where="the contact"):
    """The Outcome of a contact with this address when it cannot be sent, else None. ``where``: what the shop
    corrects (a guest order's address is the order's)."""
    if not (email or "").strip():
        return Outcome.skipped("the contact has no e-mail address")
    try:
        validate_email((email or "").strip())
    except ValidationError:
        return Outcome.failed("%r is not a valid e-mail address; correct it on %s." % (email, where))
    refused = domain_problem(email)
    if refused:
        # Django's validator still follows IDNA 2003, which named another, real domain for such an address.
        return Outcome.failed("%r is not a valid e-mail address (its domain: %s); correct it on %s."
                              % (email, refused, where))
    if len(mailchimp_email(email)) > MAX_ADDRESS:
        return Outcome.failed("%r is not a valid e-mail address (longer than %d characters); correct it on %s." % (
                              email, MAX_ADDRESS, where))
    return None


def plan(configuration, row, context):
    """The row's :class:`ContactPlan`, :class:`ErasePlan`, or its Outcome when there is nothing to send."""
    if row.erase:
        shared = row.object_id in context.held_by_others
        return ErasePlan(configuration, row, shared=shared,
                         withdraw=(shared or subscribed_by_its_consent(row)) and consent_left_with(
                             configuration.shop_id, row, carried=lost_consent(row)),
                         mapped_tags=[field["tag"] for field in context.mapping.values()],
                         unmapped_tags=context.clears,
                         interest_ids=context.interest_ids.values(),
                         left_shared=context.left_shared.get(row.object_id, ()))
    contact = context.contacts.get(row.object_id)
    problem = unsendable(contact)
    if problem:
        return problem
    contact_plan = ContactPlan(configuration, row, contact, context.address_group_ids(contact.pk),
                               context.interest_ids, context.facts(contact.pk),
                               previous_shared=row.object_id in context.held_by_others,
                               consent_left=(row.object_id in context.held_by_others
                                             or subscribed_by_its_consent(row)) and (
                                   consent_left_with(configuration.shop_id, row, carried=lost_consent(row))),
                               arrived_shared=row.object_id in context.arrived_at_held,
                               moved_to_proven=row.object_id in context.moved_to_proven,
                               proven=row.object_id in context.proven,
                               proven_by_another=row.object_id in context.proven_by_another,
                               stamp_shared=row.object_id in context.stamp_shared)
    if contact_plan.left_out:
        return Outcome.skipped("no consent, and the shop sends only people who consented (Mailchimp settings)")
    if contact_plan.left_archived:
        return Outcome.skipped("archived in Mailchimp: left archived until consent is given or withdrawn in the shop")
    # A row closed unchanged compared its contact's tags with the rules too: a tag it gets later is a fresh fact's.
    return Outcome.unchanged(tags_compared_at=row.claimed_at) if contact_plan.unchanged else contact_plan


#: What a member write carries of the contact besides its address and status.
MEMBER_DATA = ("merge_fields", "language", "interests")

#: Hex digits of each half of a contact's fingerprint: the member's, then the customer's.
HALF = 32

#: The member statuses of a consent: subscribed, or pending its owner's confirmation.
CONSENTED = (members.SUBSCRIBED, members.PENDING)


def _digest(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:HALF]


def customer_operation(configuration, customer, member_status, member_written):
    """The customer PUT. Its opt-in only counts when Mailchimp creates the member from it (an existing
    member's status is never changed by a customer); without the member written just before, the member
    may be gone, and a stale "subscribed" would bring it back subscribed: then it says no."""
    opt_in = member_written and member_status == members.SUBSCRIBED
    return Operation("PUT", customer_path(configuration.store_id, customer["id"]), dict(customer, opt_in_status=opt_in))


def customer_unchanged(fingerprint, member_status, row):
    """The customer PUT is skipped when its data and the member's status (its opt-in) are as last sent."""
    return fingerprint[HALF:] == row.fingerprint[HALF:] and member_status == row.member_status


def _same(email, other):
    return bool(email) and email.lower() == (other or "").lower()


def shop_values(contact, facts, language):
    """{shop field: value} of the contact, as :mod:`merge_fields` maps them (None: the shop has none)."""
    first, last, company = contact_names(contact)
    return {
        "first_name": first, "last_name": last, "company_name": company,
        "phone": contact.phone, "birth_date": getattr(contact, "birth_date", None),
        "billing_address": merge_fields.address_parts(contact.default_billing_address),
        "shipping_address": merge_fields.address_parts(contact.default_shipping_address),
        "language": language, "groups": ", ".join(sorted(facts.group_names.values())) or None,
        "customer_since": facts.first_order_on, "total_spent": facts.total_spent,
    }


def created_again(row, member):
    """Whether Mailchimp's ``member`` (as read) of the row's address is another than the one the row's sends wrote
    (another ``unique_email_id``): the contact's own was deleted in Mailchimp, and the address's owner made a new one
    since (a signup on Mailchimp's own form). It is its owner's, never the contact's to move, rename or delete. A row
    that recorded no id (sent before ids were kept) cannot tell: its member counts as the one it wrote."""
    written = row.unique_email_id
    return bool(written) and bool(member.get("unique_email_id")) and member["unique_email_id"] != written


class ContactPlan:
    """Everything one contact's delivery sends, computed without touching the network.

    Consent (see :mod:`shoop_mailchimp.consent`): a new member is subscribed only with consent; an
    existing member's status changes only when the shop's consent changed since it was last sent.
    """

    def __init__(self, configuration, row, contact, group_ids, interest_ids, facts=None, previous_shared=False,
                 arrived_shared=False, moved_to_proven=False, proven=False, consent_left=False,
                 proven_by_another=False, stamp_shared=False):
        self.configuration = configuration
        self.row = row
        self.contact = contact
        #: What Mailchimp holds once the member is written, kept even if a later request fails (see
        #: :func:`written_facts`); the drainer closes a failed attempt with it.
        self.written = {}
        #: What the send taught the shop so far (the address's unsubscribe: :class:`AddressUnsubscribed`), remembered
        #: even if a later request fails (the drainer carries it onto the failed attempt's Outcome).
        self.learnt = []
        #: When the shop decided this contact's consent (a withdrawal's time, for the address's other contacts).
        self.consent_changed_at = getattr(row, "consent_changed_at", None)
        self.shop_email = mailchimp_email(contact.email)
        #: The address is Mailchimp's, told by an ``upemail`` (the shop's is another): each send reads the member
        #: there first (see run), one by one. Rare, and a write must never create a member there.
        self.address_from_mailchimp = False
        if _same(row.shop_email, self.shop_email) and row.email and not _same(row.email, self.shop_email):
            # The subscriber changed their address in Mailchimp (an upemail webhook) and the shop's
            # has not changed since: keep addressing Mailchimp's, do not move the member back.
            self.email = row.email
            self.address_from_mailchimp = True
        else:
            self.email = self.shop_email
        self.permission = bool(contact.marketing_permission)
        self.previous_email = row.email if row.email and not _same(row.email, self.email) else ""
        #: The address left is another contact's of the shop too (one member of it, theirs as well), or its member
        #: was not this contact's (``foreign_member``): the member stays where it is, and the new address is written
        #: as a member of its own (see run).
        self.previous_left = bool(self.previous_email) and getattr(row, "foreign_member", False)
        #: The address left is another contact's of the shop too.
        self.left_to_others = bool(self.previous_email) and previous_shared
        self.previous_shared = self.left_to_others or self.previous_left
        #: The address left is kept by the shop's other contacts, and none of them consents: the consent the member
        #: there was subscribed with (this contact's, last sent) leaves with the contact. The member is unsubscribed
        #: (never deleted: it is theirs too), and they learn it (:func:`consent_left_with`, as an erasure's). So too
        #: a subscription this contact's consent made of a member not its own (:func:`subscribed_by_its_consent`).
        self.consent_left = self.previous_shared and consent_left
        #: When the plan read the other contacts' consent: a contact of the old address whose consent changed after
        #: it keeps its choice (:class:`AddressUnsubscribed`).
        self.planned_at = timezone.now()
        #: Whether the contact's owner proved its address theirs (see :attr:`owned`).
        self.proven = bool(proven)
        #: Whether the member of the contact's address is its own, whose names, merge fields, language, groups and
        #: tags the contact's sends write (None: decided by this send, see run). Decided when the contact arrives at
        #: the address (its first send, or a move) by what Mailchimp holds then, and kept on the row
        #: (``foreign_member``) for its later sends there, until it leaves the address. The contact owns the member
        #: when its owner proved the address theirs, or when the shop's send created the member (Mailchimp held none;
        #: a move took its own member along). Any other member (a guest buyer's, a subscriber of Mailchimp's own form,
        #: another contact's of the shop) is someone else's, maybe a stranger's account typed with their address,
        #: whatever consent the contact carries (the staff's, an old one sent by "Sync existing"): it gets only what
        #: the consent rules send.
        arriving = not (row.email or "").strip() or bool(self.previous_email)
        #: The contact arrives at its address by this send (its first, or a move): a subscription its consent made
        #: elsewhere (``SyncState.consent_made``) is not the new address's.
        self.arriving = arriving
        #: The row was sent before the shop recorded whose member it writes (``foreign_member`` None): its sends
        #: write the member as they did, and record nothing of its owner (a storefront withdrawal of an unproven
        #: account ends no subscription there: ``withdrawal_own_only``), until the contact arrives at an address.
        self.ownership_unknown = not (arriving or self.proven) and getattr(row, "foreign_member", False) is None
        #: The row was kept off the member of its address (``foreign_member``), and its owner proved the address
        #: theirs since: the member is the contact's own now, and this send writes its data there in full, however
        #: unchanged the fingerprint (its member half was recorded as sent by writes that left the data out).
        self.takes_member = self.proven and getattr(row, "foreign_member", False) is True
        #: The contact arrives (its first send, or a move) at an address another contact proved theirs (the activation
        #: link): the member there is that contact's, whoever's send creates it; a move leaves its own member where
        #: it is.
        self.proven_by_another = bool(proven_by_another) and not self.proven
        #: Another contact's row of the address was first claimed in the second this one was (:func:`stamps_shared`):
        #: a member found signed up in it is not taken for one an earlier attempt of this row created.
        self.stamp_shared = bool(stamp_shared)
        if self.proven:
            self.owned = True
        elif not arriving:
            self.owned = not getattr(row, "foreign_member", False)
        else:
            self.owned = False if self.proven_by_another else None
        #: The contact's first send, of an address its owner did not prove, whatever its consent (a consent typed
        #: into the newsletter block reads the member its own way: :meth:`_signup_read`): Mailchimp's member there,
        #: if any, is read first (one GET; see run), and is someone else's unless this row's own lost attempt
        #: created it (:func:`created_by_an_earlier_attempt`).
        self.first_unproven = self.owned is None and not self.previous_email and (
            row.consent_request != ConsentRequest.SIGNUP)
        #: The new address is another contact's of the shop too (the member there is theirs as well), and this
        #: contact arrives there without consent of its own: that member's status is left as it is, the member under
        #: the old address is not moved onto it, and a status change of this contact's (its consent withdrawn in
        #: the same save) reaches the member its consent was given for, under the old address (see run).
        self.arrived_shared = bool(self.previous_email) and arrived_shared and not self.permission
        #: Under double opt-in, the member moved to the new address carries the consent given for the old one, and
        #: nothing shows the new address the person's (Shuup does not verify an address typed into an account, and
        #: its owner did not prove it theirs): its owner is asked to confirm (the move asks ``pending``, Mailchimp
        #: mails them a link), and the consent stays a request (*confirm*) until they do (see run).
        #: Under double opt-in, the contact's address changed back to the one its owner proved, whose member
        #: Mailchimp held subscribed until a move to an address nobody proved left it pending there (a typo
        #: corrected): the member moved back is subscribed again, as it was (see run). Nothing was confirmed of
        #: the other address, and the consent has not changed since (:attr:`SyncState.subscription_moved_from`).
        self.moved_to_proven = moved_to_proven
        self._decide_move_rules()
        #: The address to remember as :attr:`SyncState.subscription_moved_from` after this send (None: unchanged).
        self.subscription_moved_from = None
        # A member the shop created before is never re-created subscribed by a stray write (an address
        # changed in Mailchimp meanwhile): only a new member, or a consent change, carries consent.
        known_member = bool(row.member_status) and row.member_status != members.ERASED and not self.previous_email
        # Not sending those who did not consent (the plan's cost): only while Mailchimp has no member to update.
        # A recovered row is never left out: the lost attempt may have written the member (see below); nor an
        # unsubscribe asked for: the audience may have a member of the address the shop never told.
        self.consent_request = row.consent_request
        #: A consent typed into the newsletter block (a new person's contact) reached a member Mailchimp already
        #: held (a guest buyer, a subscriber of Mailchimp's own form), or the contact moved without consent onto a
        #: member not its own (:attr:`arrived_at_held`): the write left its data alone (see run).
        self.member_data_left_out = False
        #: The contact moved without consent onto a member of its new address that is not its own (another
        #: contact's, a guest buyer's, a subscriber of Mailchimp's own form): the write left its data and tags alone.
        self.arrived_at_held = False
        #: This send creates the member (the first send found none), or an earlier attempt of its row did: its write
        #: carries the row's signup time (:attr:`SyncState.first_claimed_at`).
        self.creates = False
        #: An earlier attempt of this first send, whose answer was lost, created the member at an address another
        #: contact proved theirs since (see run): its subscription is this contact's consent's (``consent_made``).
        self.created_earlier = False
        #: This send found no member: its write only creates one (a POST), and another's found meanwhile is left
        #: alone (see :meth:`_member_send`).
        self.creating = False
        #: The status of the member a move ran into (another's at the new address), as read; None when not read.
        self.status_found = None
        #: The status of the member the contact left at its new address earlier and is back at now
        #: (:meth:`_back_at_member_left`), "" when it is not back at one.
        self.left_member_status = ""
        #: The row's :attr:`SyncState.members_left` after this send, when it left its own member behind under the old
        #: address (None: unchanged).
        self.members_left = None
        confirming = self.consent_request == ConsentRequest.CONFIRM
        self.recovered = bool(getattr(row, "recovered", False))
        #: The status a lost attempt of the row asked by the contact's consent (:func:`lost_consent`), "" when none,
        #: as the row said when planned: this send's own note (written before it goes out) is not a lost attempt's.
        self.lost_consent = row.consent_unanswered if lost_consent(row) else ""
        #: An earlier attempt set out to move the member to this address (:attr:`SyncState.move_sent_to`, noted
        #: before it sent anything) and the row never learnt how it ended (its answer lost, its worker killed); the
        #: contact has another address now (changed again, or back to the row's). The member may be there: it is
        #: read first (see :meth:`_follow_lost_move`). One by one.
        moved_to = getattr(row, "move_sent_to", "") or ""
        self.lost_move_to = moved_to if moved_to and not _same(moved_to, row.email) and not _same(
            moved_to, self.email) else ""
        self.left_out = not (configuration.send_unconsented or self.permission or known_member or confirming
                             or self.recovered or self.consent_request == ConsentRequest.UNSUBSCRIBE)
        self.status_change = consent.status_change(self.permission, row.opt_in, configuration.double_opt_in,
                                                   row.member_status)
        #: A lost attempt may have subscribed a member not the contact's with a consent withdrawn since: decided by
        #: reading the member (see run).
        self.lost_consent_unknown = False
        if (self.status_change is None and not self.permission and self.recovered and (
                self.lost_consent or row.opt_in and row.member_status not in (members.ERASED, members.ARCHIVED))):
            # A lost attempt may have subscribed the member (row.opt_in never learnt it): the withdrawal is
            # sent again. Only that way round: re-sending a subscription could undo an unsubscribe made in
            # Mailchimp meanwhile. Not for a contact whose consent never was (none given, none sent): its lost
            # attempt subscribed nobody, and the member it finds may be a subscriber of Mailchimp's own form; nor
            # for one whose consent last changed before its last send closed (the lost attempt carried none
            # given since). Where the member is someone else's and no subscription there is known to be this
            # contact's consent's, the member is read first (:func:`subscribed_by_a_lost_attempt`).
            if subscription_of_others(row):
                self.lost_consent_unknown = True
            else:
                self.status_change = members.UNSUBSCRIBED
        self.status_change = consent.requested_change(
            self.consent_request, self.status_change, self.permission, row.member_status, configuration.double_opt_in,
            row.opt_in)
        # A shopper asked to subscribe after the confirmation link lapsed: Mailchimp mails a fresh one.
        self.fresh_link = (self.permission or confirming) and consent.fresh_link_due(
            row.member_status, getattr(row, "confirmation_sent_at", None), getattr(row, "consent_requested_at", None),
            timezone.now(), confirmation_lifetime())
        if self.fresh_link and self.status_change is None:
            self.status_change = members.PENDING
        facts = facts or AudienceFacts(mapping=merge_fields.UNREAD_MAP)
        # The contact's own language ("" when unset: Shuup's ``Contact.language`` would give the shop's
        # default, which says nothing of the person, and Mailchimp keeps the language it has).
        language = contact.language or ""
        self.member = {
            "email_address": self.email,
            "status_if_new": (members.TRANSACTIONAL if known_member else members.PENDING if confirming
                              else consent.status_if_new(self.permission, configuration.double_opt_in)),
            "merge_fields": merge_fields.merge_values(facts.mapping, shop_values(contact, facts, language),
                                                      facts.places),
        }
        if mailchimp_language(language):
            self.member["language"] = mailchimp_language(language)
        if interest_ids:
            self.member["interests"] = {
                interest_id: group_id in group_ids for group_id, interest_id in interest_ids.items()
            }
        self.customer = customer_payload(contact, self.email)
        # Tags are sent apart from the member (their own request), so they are compared apart from its fingerprint.
        self.tags_wanted = tags.wanted_tags(configuration, contact_kind(contact) == COMPANY, facts.order_count,
                                            facts.group_names)
        self.tags_applied = tags.parse_tags(row.applied_tags)
        self.tags_found = tags.parse_tags(row.found_tags)
        #: The wanted tags of rules added since the contact's tags were last compared with the rules: facts older
        #: than the rule, added without starting tag automations (see :mod:`.tags`).
        self.tags_backfill = tags.backfilled(self.tags_wanted, tags.rule_moments(configuration, facts.group_names),
                                             row.tags_compared_at or row.last_synced_at)
        if self.owned is False:
            # Kept off a member not its own since it arrived there: only what the consent rules say, no tags.
            self._leave_member_alone()
        # What Mailchimp holds after the send: status_if_new is left out, it only changes once the member
        # is known and would make the next save of an untouched contact send everything again.
        # One half per request, so that a send skips the request whose half Mailchimp already holds.
        # The fields' merge ids too: a field the marketer deleted and made again (same tag and type) holds none of
        # the values last sent, and the member is written again with them.
        field_ids = merge_fields.filled_field_ids(facts.mapping, self.member["merge_fields"])
        self.fingerprint = _digest(dict(self.member, status_if_new=None, **(
            {"merge_field_ids": field_ids} if field_ids else {}))) + _digest(self.customer)
        # A field the shop created and no longer fills is sent empty to a member written before it was unmapped,
        # once: left out of the fingerprint, so that the next write leaves it alone (a marketer's later use).
        self.member["merge_fields"].update(merge_fields.clear_values(
            facts.clears, row.member_written_from or row.last_synced_at))

    @property
    def foreign_member_fact(self):
        """What the row records of the member's owner after this send (``SyncState.foreign_member``): None leaves
        it as it is (not decided yet, or not known: :attr:`ownership_unknown`)."""
        return None if self.owned is None or self.ownership_unknown else not self.owned

    @property
    def addresses(self):
        """The addresses whose member this send reads or writes: a concurrent drain never sends two plans naming
        one at once (two first sends would both find no member, and both take the one they create for their own)."""
        return {address_key(email) for email in (self.email, self.previous_email, self.lost_move_to) if email}

    @property
    def refusal_key(self):
        """What this send would ask of Mailchimp: when Mailchimp refused it for good, the same key is not sent
        again until something in it changes."""
        asked = "|".join((self.fingerprint, self.status_change or "", self.previous_email))
        return hashlib.sha256(asked.encode("utf-8")).hexdigest()

    @property
    def batchable(self):
        """Whether a batch can carry this send: a member PUT then a customer PUT. An address change and a
        renewed consent need answers in between (an existing member, a compliance state), so they go
        one by one; so does a retried first send at an address another contact proved since, which reads the member
        its lost attempt may have created (``created_earlier``, review aud44 F4)."""
        return (not self.previous_email and not self.address_from_mailchimp and self.status_change != members.SUBSCRIBED
                and not self.lost_move_to
                and not (self.owned is False and self.status_change in CONSENTED)
                and not self.confirmation_decided_by_answer and not self.signup and not self.lost_consent_unknown
                and not (self.proven_by_another and not self.previous_email and self.retried_first_send)
                and (self.owned is not None or self.first_unproven))

    @property
    def signup(self):
        """A consent typed into the newsletter block (:data:`ConsentRequest.SIGNUP`): whoever typed the address is
        not shown to own it, and their names must not rename a member Mailchimp holds of it. Such a send first
        reads the member (see :meth:`run`), so it goes one by one, never in a batch."""
        return self.consent_request == ConsentRequest.SIGNUP

    @property
    def left_archived(self):
        """A member archived in Mailchimp (by a marketer, or the shop's move of an address) stays archived: the
        shop sends it nothing, not even the customer (a store's customer brings an archived contact back), until
        the shop has news for it: a consent given or withdrawn (a status, which brings it back subscribed,
        pending or unsubscribed), or a shopper's request. A resend or a re-queue is no news."""
        return self.row.member_status == members.ARCHIVED and not self.status_change and not self.consent_request

    @property
    def unchanged(self):
        return (not self.recovered and not self.takes_member and self.fingerprint == self.row.fingerprint
                and self.status_change is None and not self.previous_email and not self.request_done
                and not self.lost_move_to and tags.same_tags(self.tags_wanted, self.tags_applied | self.tags_found)
                and not self.confirmation_needs_answer)

    def _decide_move_rules(self):
        """:attr:`move_restores` and :attr:`move_confirms`, for the move to :attr:`previous_email` (decided again when
        a lost move's address becomes the one left: :meth:`_follow_lost_move`)."""
        row, double_opt_in = self.row, self.configuration.double_opt_in
        moved_from = getattr(row, "subscription_moved_from", "")
        self.move_restores = bool(self.previous_email and moved_from) and double_opt_in and (
            self.permission and self.moved_to_proven and row.member_status == members.PENDING
            and address_key(moved_from) == address_key(self.email))
        #: A member pending moves pending too, wherever to (unless restored): the link is mailed to the new address,
        #: the one mailed before went to the old (a typo's mailbox). A subscribed one moves as it is only to an
        #: address its owner proved.
        self.move_confirms = bool(self.previous_email) and double_opt_in and self.permission and (
            row.member_status == members.PENDING and not self.move_restores
            or row.member_status == members.SUBSCRIBED and not self.moved_to_proven)

    @property
    def noted_before_sending(self):
        """What the row must know should this send never end (:func:`~shoop_mailchimp.sync.state.note_before_sending`):
        the address a move of its member goes to, or a first send's (the row knows no address: an erasure before it
        learns one looks there, aud36 F5); the status its writes may ask by the contact's consent (a status decided
        now, the status of a member it creates, or, for a contact who consents, the one a write's answer may decide:
        subscribed, or pending under double opt-in)."""
        # A lost attempt's address the row has not learnt yet stays noted until a close learns where the member is:
        # this send, should it fail before following it, must not make the next one forget it (review aud46 F2).
        noted = {"move_sent_to": self.lost_move_to or self.email} if (
            self.previous_email or self.lost_move_to or not (self.row.email or "").strip()) else {}
        for asked in (self.status_change, self.member.get("status_if_new"),
                      consent.status_if_new(self.permission, self.configuration.double_opt_in)):
            if asked in CONSENTED:
                noted["consent_unanswered"] = asked
                break
        written = self.fields_written
        if written is not None and written != self.row.fields_written:
            noted["fields_written"] = written
        return noted

    @property
    def fields_written(self):
        """:attr:`SyncState.fields_written` once this send's member write may have landed (None: it carries no merge
        field of the contact's)."""
        merge_fields = None if self.member_unchanged else self.member.get("merge_fields")
        return fields_written(self.row.fields_written, merge_fields) if merge_fields else None

    @property
    def confirmation_needs_answer(self):
        """A confirmation asked of a member the shop knows, unless mailed already (pending) or bouncing
        (cleaned): only a member write's answer tells whether it is subscribed (an unsubscribe, or a
        subscription on Mailchimp's own form, whose webhook never came); if not, its owner is mailed a link."""
        return self.consent_request == ConsentRequest.CONFIRM and self.row.member_status not in (
            members.PENDING, members.CLEANED)

    @property
    def confirmation_decided_by_answer(self):
        """A confirmation asked of a member the shop believes exists unsubscribed: the member write's answer
        decides whether pending is asked for, so it goes one by one (a batch would only learn the status)."""
        return self.confirmation_needs_answer and self.status_change is None and self.row.member_status not in (
            "", members.SUBSCRIBED)

    def consent_made_fact(self, status, status_before, member_status):
        """:func:`consent_made` for this plan's member write (``creating`` still: it created the member)."""
        return consent_made(self.permission, self.arriving, status, status_before, member_status,
                            created=self.creating or self.created_earlier)

    def existed_without_consent(self, status, member_status):
        """:func:`existed_without_consent` for this plan's send (``status``: the status the write asked for)."""
        return existed_without_consent(self.consent_request, self.permission, status, member_status)

    def status_asked(self, member_status):
        """The status a consent request asks of a member that existed without it (:func:`consent.status_asked`)."""
        return consent.status_asked(self.consent_request, member_status, self.configuration.double_opt_in)

    @property
    def request_done(self):
        """The consent request this send carries out and clears ("" when none): a confirmation request stays
        until the address's owner confirms."""
        return "" if self.consent_request == ConsentRequest.CONFIRM else self.consent_request

    @property
    def tags_to_add(self):
        """Rule tags the shop has neither applied nor found on the member: whether the member carries them
        already (added by hand) is known only from a member write's answer."""
        return tags.without(self.tags_wanted, self.tags_applied, self.tags_found)

    def tag_change(self, carried=None):
        return tags.TagChange(self.tags_wanted, self.tags_applied, self.tags_found, carried, self.tags_backfill)

    @property
    def member_unchanged(self):
        """Mailchimp holds this member as it would be sent and nothing asks for a new status or address: the
        member PUT is skipped (a group or an address changed only the customer's part, or the reverse). A
        recovered row's member is always written, one by one or in a batch: the lost attempt may have written
        it with the data (and the consent) of then; so is a member the contact takes over (:attr:`takes_member`)."""
        return (not self.recovered and not self.takes_member
                and self.fingerprint[:HALF] == self.row.fingerprint[:HALF] and self.status_change is None
                and not self.previous_email and not self.request_done
                and not self.tags_to_add and not self.confirmation_needs_answer
                and self.row.member_status not in ("", members.ERASED, members.ARCHIVED))

    def customer_unchanged(self, member_status):
        return customer_unchanged(self.fingerprint, member_status, self.row)

    @property
    def retried_first_send(self):
        """A first send of the row tried again (its first claim is not this one), nothing known of its member."""
        return bool(self.row.first_claimed_at) and self.row.claimed_at != self.row.first_claimed_at and not (
            self.row.member_status)

    def created_by_an_earlier_attempt(self, member):
        """:func:`created_by_an_earlier_attempt` for this plan's row."""
        return created_by_an_earlier_attempt(member, self.row, self.stamp_shared)

    def _leave_member_alone(self):
        """The member is not the contact's (:attr:`owned`): its writes carry none of the contact's data, and its tags
        are taken as the member's own (found), none added or removed."""
        self.owned = False
        self.tags_applied = set()
        self.member_data_left_out = self.arrived_at_held = True

    def member_operation(self, status=None, held=False, create=False):
        """The member write (a PUT); ``held``: as written to a member found that is another's
        (:meth:`_leave_member_alone`);
        ``create``: a POST that only creates the member, refused when Mailchimp holds one (another send, another
        worker or the person themselves created it since the read that found none)."""
        body = dict(self.member)
        held = held or self.member_data_left_out
        if held:
            # Only what the consent rules say (the status): no names, language or groups of the block's contact.
            for name in MEMBER_DATA:
                body.pop(name, None)
        if status:
            body["status"] = status
        if self.creates and not held and self.row.first_claimed_at:
            # When the row was first claimed: if this attempt's answer is lost, a later one knows the member by it.
            body["timestamp_signup"] = signup_stamp(self.row.first_claimed_at).isoformat()
        # An audience may mark merge fields the shop does not have (an address, a phone) required:
        # Mailchimp's own integrations skip that check, or every write would be refused.
        params = {"skip_merge_validation": "true"}
        if create and not held:
            body["status"] = body.pop("status_if_new") if not status else status
            body.pop("status_if_new", None)
            return Operation("POST", members_path(self.configuration.list_id), body, params=params)
        return Operation("PUT", member_path(self.configuration.list_id, self.email), body, params=params)

    def decides_consent(self, status):
        """Whether this send carries the shop's consent decision (a new member, or a consent change)."""
        return bool(status) or self.member["status_if_new"] != members.TRANSACTIONAL

    def permissions_operation(self, member, status):
        """On a GDPR-enabled audience, members carry marketing permissions (e-mail, direct mail, ads): when
        the shop decides consent, they follow it; otherwise what the person set in Mailchimp stands."""
        if not self.decides_consent(status):
            return None
        return permissions_operation(self.configuration.list_id, self.email, member, self.permission)

    def customer_operation(self, member_status, member_written=True):
        return customer_operation(self.configuration, self.customer, member_status, member_written)

    def run(self, log):
        """Yields operations, receives their answers; returns the Outcome. Errors the plan does not
        handle itself propagate to the drainer."""
        list_id = self.configuration.list_id
        if self.address_from_mailchimp and (yield from read_member(list_id, self.email, "status")) is None:
            return (yield from self._member_moved_on(log))
        if self.lost_move_to:
            yield from self._follow_lost_move(log)  # found there: moved from there (below)
        status = self.status_change
        link_on_move = restored = False
        held_by = "another contact of the shop has" if self.arrived_shared else ""
        read_new = False
        if self.previous_email and not self.permission and not held_by:
            held_by = yield from self._arriving_at_held_member()
            read_new = True
        if held_by:
            status = yield from self._arrived_at_shared(status, log, held_by)
        elif self.first_unproven:
            # The member Mailchimp holds of the address, read first (one GET), as the newsletter block's signup does.
            held = yield from read_member(list_id, self.email, ARRIVAL_FIELDS)
            if held is not None and self.created_by_an_earlier_attempt(held):
                self.owned = self.creates = True
                log("member.recovered", "Mailchimp holds a member of %s, created by an earlier attempt of this "
                    "contact's whose answer never came back (its signup time is that attempt's): the contact's own"
                    % self.email)
            elif held is not None:
                # The member is another's (a guest buyer's, a subscriber of Mailchimp's own form, another contact's
                # of the shop): this write carries only what the consent rules say, now and at later sends.
                self.tags_found = set()
                self._leave_member_alone()
                log("member.kept", "Mailchimp holds a member of %s already, and nothing shows it this contact's (its "
                    "owner did not prove the address theirs): this contact's sends leave that member's names, "
                    "language, groups and tags as they are" % self.email)
            else:
                self.owned = self.creates = self.creating = True
        elif self.proven_by_another and not self.previous_email and self.retried_first_send:
            # The address's owner proved it theirs after an attempt of this first send whose answer was lost: the
            # member is theirs now, but a subscription that attempt created was this contact's consent alone, when
            # a lost attempt carried the contact's consent (noted before it sent: aud37 F2, a consent given later
            # came after an unconsented creation; aud38 F1, one withdrawn and given again before the retry) and the
            # member still has the status that attempt asked: a pending one its owner confirmed since is theirs
            # (aud36 F3).
            held = yield from read_member(list_id, self.email, ARRIVAL_FIELDS)
            self.created_earlier = held is not None and self.created_by_an_earlier_attempt(held) and bool(
                self.lost_consent) and held.get("status") == self.lost_consent
        elif self.previous_shared or self.proven_by_another and self.previous_email:
            if self.previous_shared:
                why = ("the member of %s was not this contact's" if self.previous_left
                       else "another contact of the shop still has %s") % self.previous_email
            else:
                why = "another contact proved %s theirs" % self.email
                status = yield from self._onto_anothers_proven_address(status, log)
            yield from self._new_address_apart(log, read_new, why)
            if self.consent_left:
                # None of them consents: the consent the member was subscribed with leaves with this contact.
                left = yield from unsubscribe_kept_member(
                    list_id, self.previous_email, self.row.object_id, self.planned_at, self.learnt, log,
                    "%s was left to the other contacts of the shop with the address" % self.previous_email
                    if self.left_to_others else "%s was left: its member was not this "
                    "contact's, and its subscription the one this contact's consent made" % self.previous_email)
                if left:
                    # The row names that address until the new one's write succeeds: should a later step fail, it
                    # knows the shop's own unsubscribe there (aud39 F2: its retry, back at the address, took the
                    # member's status for the person's unsubscribe, or wrote nothing and left a consent unsubscribed).
                    self.written = {"member_status": left, "opt_in": False, "consent_made": False}
        elif self.previous_email:
            # The member under the address the contact leaves, read before it is moved.
            held = yield from read_member(list_id, self.previous_email, "unique_email_id,status")
            if held is None:
                held = yield from self._member_moved_meanwhile(log)
            if held is None:
                yield from self._no_member_left(log, read_new)
                if self.move_restores and self.owned and (
                        (yield from read_member(list_id, self.email, "status")) or {}).get("status") == members.PENDING:
                    # Its own member at the address already, pending as an earlier attempt's move back left it (its
                    # restoring write failed): restored as that move would have (aud41 F4). Not one unsubscribed
                    # since (its owner's choice).
                    status, restored, self.subscription_moved_from = members.SUBSCRIBED, True, ""
            elif created_again(self.row, held):
                # Not the member this contact's sends wrote: its owner made it after the contact's own was deleted
                # in Mailchimp (a signup on Mailchimp's own form). It stays as it is, under its address.
                yield from self._new_address_apart(log, read_new, "the member of %s is not the one this contact's "
                                                   "sends wrote (created again since)" % self.previous_email)
            else:
                link_on_move, restored, status = yield from self._move_member(held, status, log)
        if self.owned and self.previous_email and not self.left_member_status:
            # Its own by its owner's proof: a member it left here earlier is read (it is back at it).
            yield from self._read_member_left()
        if status is None and self.permission and self.left_member_status == members.ARCHIVED:
            # Back at the member it left archived (its consent left with it): the consent it still gives comes back
            # only as its address's owner confirms it (Mailchimp mails them), as for any member who left. One
            # unsubscribed or cleaned since it was left (its owner on Mailchimp's own form, a bounce) stays so.
            status, self.status_found = members.PENDING, self.left_member_status
            log("member.confirmation", "%s is this contact's own member, left %s when the contact moved away: back "
                "at it with consent, its owner is asked to confirm it (pending)" % (
                    self.email, self.left_member_status))
        # The member's status before this send's consent: as read where the send read it (a move onto a member).
        status_before = self.row.member_status if self.status_found is None else self.status_found
        if self.signup and not self.member_unchanged:
            status, status_before = yield from self._signup_read(status, log)
        elif self.lost_consent_unknown and status is None:
            found = yield from read_member(list_id, self.email, "status")
            if found is not None and subscribed_by_a_lost_attempt(found, self.row):
                status = members.UNSUBSCRIBED
                log("member.unsubscribed", "%s was subscribed after this contact's last send, by an attempt of its "
                    "lost with its worker (the consent it carried was withdrawn since): unsubscribed" % self.email)
        elif self.owned is False and not self.arriving and status in CONSENTED:
            # A consent for a member not the contact's: decided by its status now, not the row's last news of it (a
            # webhook late or lost): one its owner subscribed, or signed up for and has yet to confirm, is theirs.
            status_before = ((yield from read_member(list_id, self.email, "status")) or {}).get("status", "")
            if status_before in CONSENTED:
                status = None
        # The moment the shop's decision leaves, not when the answers are in: an unsubscribe Mailchimp records
        # after this write (its webhook's ``fired_at`` has whole seconds) must not look older than the consent.
        decided_at = timezone.now()
        if self.member_unchanged:
            member, member_status = None, self.row.member_status
        else:
            member = yield from self._member_send(status, log)
            if isinstance(member, Outcome):
                return member
            status = member.pop("_status_sent", status)
            member_status = member.get("status", "")
            if self.existed_without_consent(status, member_status):
                status_before = member_status
                member = yield from self._member_send(self.status_asked(member_status), log)
                if isinstance(member, Outcome):
                    return member
                status = member.pop("_status_sent")
                member_status = member.get("status", "")
                log("member.consent", "%s was in the audience already (as %s): the consent just given in the shop "
                    "was sent as a change" % (self.email, self.row.member_status or "a member the shop never told"))
            if self._wrote_another_member(member):
                yield from self._remember_own_member_moved_away(log)
            self.written = written_facts(self.email, member_status, self.permission, self.decides_consent(status),
                                         self.request_done, written_from=self.row.claimed_at)
            if not self.member_data_left_out and self.fields_written is not None:
                self.written["fields_written"] = self.fields_written
            if link_on_move or restored:
                self.written["consent_request"] = consent.request_left(ConsentRequest.SIGNUP, member_status)
            if self.subscription_moved_from is not None:
                self.written["subscription_moved_from"] = self.subscription_moved_from
            self.learnt.extend(address_unsubscribed(self.email, status, member_status, self.permission,
                                                    self.consent_changed_at or decided_at, self.row.object_id))
            if self.foreign_member_fact is not None:
                self.written["foreign_member"] = self.foreign_member_fact
            made = self.consent_made_fact(status, status_before, member_status)
            if made is not None:
                self.written["consent_made"] = made
            if self.members_left is not None:
                self.written["members_left"] = self.members_left
            if self.member_data_left_out:
                # The member's half counts as sent: a retry (the customer failed) must not write the data it left out.
                self.written["fingerprint"] = self.fingerprint[:HALF] + self.row.fingerprint[HALF:]
            permissions = None if member_status == members.ARCHIVED else self.permissions_operation(member, status)
            if permissions is not None:
                yield permissions
                log("member.marketing_permissions", "The audience's GDPR marketing permissions follow the "
                    "shop's consent: %s" % ("given" if self.permission else "withdrawn"))
        unsubscribed_meanwhile = False
        if member_status == members.ARCHIVED:
            # The write left an archived member archived (it carried no status): the customer would bring it back.
            log("member.archived", "%s is archived in Mailchimp: left archived, and the customer was not sent"
                % self.email)
        elif not self.customer_unchanged(member_status):
            try:
                yield self.customer_operation(member_status, member_written=member is not None)
            except MailchimpAPIError as error:
                if not errors.in_compliance_state(error):
                    raise
                # The person unsubscribed (or bounced) between the member PUT and this one: the customer's
                # opt-in would subscribe them again. Their status now, then the customer without it.
                member_status = ((yield from read_member(list_id, self.email, "status")) or {}).get("status", "")
                yield self.customer_operation(member_status, member_written=False)
                unsubscribed_meanwhile = member_status == members.UNSUBSCRIBED
                log("member.unsubscribed", "%s is %s in Mailchimp since the member was written a moment ago: the "
                    "customer was sent without an opt-in" % (self.email, member_status))
        tag_change = None
        if member_status not in ("", members.ERASED, members.ARCHIVED):
            # A member arrived at that is not the contact's: the rules' tags are taken as its own (found), none
            # added or removed.
            tag_change = self.tag_change(set(self.tags_wanted) if self.arrived_at_held else (
                None if member is None else tags.member_tags(member)))
            for tags_operation in tag_change.operations(list_id, self.email, self.configuration.store_syncing):
                yield tags_operation
                log("member.tags", "Tags of %s: %s%s" % (self.email, ", ".join(
                    "%s %s" % ("+" if change["status"] == "active" else "-", change["name"])
                    for change in tags_operation.body["tags"]),
                    " (is_syncing: no tag automation)" if tags_operation.body.get("is_syncing") else ""))
        link_asked = link_on_move or (member is not None and link_mailed(member_status, status,
                                                                          self.row.member_status))
        log("contact.sent", "%s is %s in the audience%s, and customer %s in the store" % (
            self.email, member_status or "unknown", " (consent changed in the shop)" if status else "",
            self.customer["id"]),
            extra={"status": member_status, "status_change": status, "interests": self.member.get("interests")})
        outcome = sent_outcome(self.email, self.shop_email, self.permission, self.fingerprint, member_status, status,
                               decided_at, None if member is None else member.get("unique_email_id", ""),
                               unsubscribed_meanwhile, tag_change, self.request_done, link_asked,
                               learnt=self.learnt, contact_id=self.row.object_id, seen_at=self.row.last_synced_at,
                               foreign_member=self.foreign_member_fact, compared_at=self.row.claimed_at)
        if link_on_move or restored:
            # The consent moved with the member is a request its owner has not confirmed, as one typed for an
            # address nobody proved: it stays *confirm* until they do (the ``subscribe`` webhook). Moved back
            # subscribed, it is done (pending there if Mailchimp refused: the link mailed, it stays).
            outcome.facts["consent_request"] = consent.request_left(ConsentRequest.SIGNUP, member_status)
        if self.subscription_moved_from is not None:
            outcome.facts["subscription_moved_from"] = self.subscription_moved_from
        if self.members_left is not None:
            outcome.facts["members_left"] = self.members_left
        if "fields_written" in self.written:
            outcome.facts["fields_written"] = self.written["fields_written"]
        made = self.consent_made_fact(status, status_before, member_status)
        if made is not None:
            outcome.facts["consent_made"] = made
        if member is not None and self.tags_ignored(member):
            # A tag the write carried is not the audience's any more (a marketer renamed or deleted the field in
            # Mailchimp, which ignores the tag silently): the fields are read again as the row closes (a renamed
            # one followed by its merge id) and the contact is sent again with them.
            outcome.learnt.append(AudienceFieldsLearnt(asked_at=decided_at))
            outcome.requeue.append((SyncKind.CONTACT, [self.row.object_id], False))
        return outcome

    def _onto_anothers_proven_address(self, status, log):
        """The contact moves onto an address another contact proved theirs: the member there is theirs. The contact's
        own member stays under the old address, archived (no longer mailed: the consent it was subscribed with left
        with the contact) and remembered for its erasure; none of its consent goes to the proven address either (it
        was given for another address): a member it creates there asks the address's owner to confirm (pending), and
        one there keeps its status. Returns the status for the new address's write: none."""
        if not self.previous_left:
            yield from self._left_behind(archiving=True)
            try:
                yield Operation("DELETE", member_path(self.configuration.list_id, self.previous_email))
                log("member.archived", "%s was archived: the contact moved to %s, which another contact proved "
                    "theirs" % (self.previous_email, self.email))
            except MailchimpNotFound:
                pass
        self.member["status_if_new"] = members.PENDING if self.permission else members.TRANSACTIONAL
        return None

    def _member_moved_on(self, log):
        """Step: Mailchimp holds no member at the address an ``upemail`` named. Webhook deliveries come out of order
        (Mailchimp retries a failed one for over an hour): an old upemail applied after the one that undid it
        names an address Mailchimp no longer holds (a typo, a stranger's mailbox), and a later one may not have
        arrived yet. A write would create a member there; the contact's member is looked up by its
        ``unique_email_id`` instead (kept across address changes): the row follows it. With none anywhere (a
        marketer deleted it), the contact is sent again as never sent to its own address: a first send, which reads
        the member there first (another contact's, or someone's form signup, is left alone). Its consent is sent
        anew; an unsubscribe asked for has no member of its own left to end (aud36 F4: kept, it ended a form
        subscriber's subscription at the shop's address)."""
        found = yield from member_address(self.configuration.list_id, self.row.unique_email_id)
        if found is None:
            outcome = Outcome(Result.RETRY, "Mailchimp holds no member at %s, the address an upemail webhook named, "
                              "nor this contact's member anywhere in the audience (deleted there): the contact is sent "
                              "as new to its own address, %s" % (self.email, self.shop_email), waits=True)
            outcome.facts = dict(email="", member_status="", unique_email_id="", applied_tags="", found_tags="",
                                 fingerprint=state.cleared_fingerprint(), consent_made=False)
            if not self.proven:
                # Whoever holds the shop's address now is not shown to be this contact (aud37 F1: a proven owner's
                # member there is its own, and its unsubscribe reaches it).
                outcome.facts["opt_in"] = None
                if self.consent_request == ConsentRequest.UNSUBSCRIBE:
                    outcome.facts["consent_request"] = ""
        else:
            outcome = Outcome(Result.RETRY, "Mailchimp holds no member at %s, the address an upemail webhook named: "
                              "the contact's member is at %s now, and is sent there" % (self.email, found), waits=True)
            outcome.facts = {"email": found}
        log("member.email", outcome.reason)
        return outcome

    def _left_behind(self, archiving=False):
        """Step: the contact's own member stays under the address it leaves (``archiving``: the caller archives it
        next; or not moved onto a member another holds): remembered, so that its erasure deletes it too, with its
        status as left (a subscription there since is its owner's: :meth:`_back_at_member_left`) and a digest of
        each merge field it holds (the contact's data), so that an erasure that must keep the member clears those,
        and not what its owner types there since (:func:`left_field_digests`). Read before the archive: a failed
        read fails the send before anything changed, and its retry reads again."""
        member = yield from read_member(self.configuration.list_id, self.previous_email, "status,merge_fields")
        if member is None:
            return  # deleted in Mailchimp meanwhile: nothing stays under the old address
        self._remember_left(self.previous_email, self.row.unique_email_id,
                            members.ARCHIVED if archiving else member.get("status", ""), member)

    def _remember_left(self, email, unique_email_id, status, member):
        """``member`` (as read, with its merge fields), a member of the contact's own at ``email`` that its later
        sends no longer write, is kept in :attr:`SyncState.members_left` (its entry replacing one of the address):
        its erasure reaches it, and clears only what the contact's data is there (:func:`left_field_digests`)."""
        known = self.members_left if self.members_left is not None else getattr(self.row, "members_left", None)
        self.members_left = [dict(entry) for entry in known or []
                             if address_key(entry.get("email", "")) != address_key(email)] + [{
            "email": email, "unique_email_id": unique_email_id, "status": status,
            "fields": left_field_digests(member.get("merge_fields") or {})}]

    def _wrote_another_member(self, member):
        """The write at the row's own address answered with another member than the contact's own that the row's
        sends wrote there (``unique_email_id``; not one the row knows as its owner's, ``foreign_member``): none was
        there any more, and the write created one (or reached its owner's)."""
        known = self.row.unique_email_id
        return bool(known) and not self.row.foreign_member and _same(self.row.email, self.email) and member.get(
            "unique_email_id") not in ("", None, known)

    def _remember_own_member_moved_away(self, log):
        """Step, after :meth:`_wrote_another_member`: the contact's own member is looked up by its id. Moved by its
        owner in Mailchimp (the ``upemail`` not heard of yet), it still holds the contact's data and the subscription
        its consent gave: remembered as a member left, so that the contact's erasure reaches it (review aud53 F2: the
        row took the new member's id, and the moved one was recorded nowhere). Deleted there, it is found nowhere."""
        list_id = self.configuration.list_id
        found = yield from member_address(list_id, self.row.unique_email_id)
        if found is None or _same(found, self.email):
            return
        member = yield from read_member(list_id, found, "status,merge_fields")
        if member is None:
            return
        self._remember_left(found, self.row.unique_email_id, member.get("status", ""), member)
        # Not left by the contact: its subscription is still the one the contact's consent made (aud57 F4).
        self.members_left[-1]["moved"] = True
        log("member.email", "%s: the member this contact's sends wrote there is at %s now (moved in Mailchimp); a new "
            "one was written at the contact's address, and the moved one is remembered for the contact's erasure" % (
                self.email, found))

    def _member_moved_meanwhile(self, log):
        """Step: Mailchimp holds no member at the address the contact leaves. An earlier attempt may have moved it
        (its PATCH landed, its answer was lost: a worker killed, a timeout) to an address the shop changed again
        before the retry (:meth:`_follow_lost_move` looks there first), or its owner changed the address in
        Mailchimp (the upemail not heard of yet).
        Left there, subscribed, it would be mailed at an address the shop no longer has, and never hear of the
        contact again (the chaos run's seed 571248). The contact's member is looked up by its ``unique_email_id``:
        found at another address that no other contact of the shop has, it moves from there (``previous_email``
        becomes that address). Returns the member as read there, or None (none elsewhere: at the new address, an
        earlier attempt's move is found by the read there)."""
        list_id = self.configuration.list_id
        found = yield from member_address(list_id, self.row.unique_email_id)
        if found is None or _same(found, self.email) or _same(found, self.previous_email):
            return None
        if shop_contacts_with_address(self.configuration.shop_id, found).exclude(pk=self.row.object_id).exists():
            return None  # another contact's address too: the member stays there, theirs as well
        held = yield from read_member(list_id, found, "unique_email_id,status")
        if held is None or held.get("unique_email_id") != self.row.unique_email_id:
            return None
        log("member.email", "Mailchimp holds no member at %s: the contact's member is at %s (moved there by an "
            "earlier attempt whose answer was lost, or by its owner in Mailchimp), and moves from there to %s" % (
                self.previous_email or self.email, found, self.email))
        self.previous_email = found
        return held

    def _follow_lost_move(self, log):
        """Step: an earlier attempt's move to :attr:`lost_move_to` may have landed. Mailchimp's member there is the
        contact's when it has the row's ``unique_email_id`` (a move keeps it): then it moves from there, to the
        contact's address now (``previous_email`` becomes that address; a member its owner made at the contact's
        address meanwhile archives it, as any move onto a held address does). Left there, subscribed, it would be
        mailed at an address the shop no longer has (the chaos run's seed 571248; review aud39 F4). Where another
        contact of the shop has that address now, the member stays theirs; the subscription this contact's consent
        gave it leaves with the contact unless one of them consents (aud39 F5), as on a move's answered path."""
        list_id = self.configuration.list_id
        held = yield from read_member(list_id, self.lost_move_to, ARRIVAL_FIELDS + ",unique_email_id,merge_fields")
        if held is None:
            return  # the lost move never landed (or its member went since): the member is where the row says
        others = shop_contacts_with_address(self.configuration.shop_id, self.lost_move_to).exclude(
            pk=self.row.object_id)
        if not self.row.unique_email_id or held.get("unique_email_id") != self.row.unique_email_id:
            # Created there by an earlier attempt (its signup time), unless another row of the shop was first claimed
            # in that second: its member may be theirs (aud45 F2).
            created = created_by_an_earlier_attempt(held, self.row, self.stamp_shared or signup_second_shared(
                self.row, self.lost_move_to))
            if created and not others.exists() and not (
                    self.configuration.double_opt_in and held.get("status") == members.SUBSCRIBED):
                yield from self._archive_lost_creation(held, log)
            elif created and others.exists() and self.lost_consent and held.get("status") in CONSENTED and not (
                    consenting_in_shop(self.configuration.shop_id, others)):
                # Another contact has the address now and does not consent: the subscription the lost attempt made
                # on this contact's consent leaves with it (aud45 F3).
                yield from unsubscribe_kept_member(
                    list_id, self.lost_move_to, self.row.object_id, self.planned_at, self.learnt, log,
                    "An earlier attempt whose answer was lost created this contact's member at %s, which other "
                    "contacts of the shop have now" % self.lost_move_to)
            return
        if others.exists():
            consenting = consenting_in_shop(self.configuration.shop_id, others)
            # Its subscription is this contact's consent's: the one last sent, or one given since that the lost
            # attempt may have carried (aud40 F2).
            carried = self.row.opt_in or self.lost_consent
            if carried and not consenting and held.get("status") in (members.SUBSCRIBED, members.PENDING):
                yield from unsubscribe_kept_member(
                    list_id, self.lost_move_to, self.row.object_id, self.planned_at, self.learnt, log,
                    "An earlier attempt whose answer was lost moved this contact's member to %s, which other "
                    "contacts of the shop have now" % self.lost_move_to)
            else:
                log("member.email", "An earlier attempt whose answer was lost moved this contact's member to %s, "
                    "which other contacts of the shop have now: it stays theirs" % self.lost_move_to)
            # The contact's address has no member of its own now: written as a new member there, under the consent
            # rules, unless Mailchimp holds one there already that is not the contact's (as a move apart writes).
            self.tags_applied, self.tags_found = set(), set()
            self.owned = None
            if (yield from self._arriving_at_held_member()):
                self._leave_member_alone()
            elif self.owned is None:
                self.owned = self.creating = self.creates = True
                self.member["status_if_new"] = consent.status_if_new(self.permission,
                                                                     self.configuration.double_opt_in)
            return
        log("member.email", "An earlier attempt whose answer was lost moved this contact's member to %s: it moves "
            "from there to %s" % (self.lost_move_to, self.email))
        # The address left is the lost move's now: what the plan decided of the row's (another contact has it, the
        # member there is not the contact's, ...) no longer holds, and the contact arrives at its address by this
        # move, whose member there, if any, is decided as any move's (aud40 F1, F4).
        self.previous_email = self.lost_move_to
        self.previous_left = self.left_to_others = self.previous_shared = self.consent_left = False
        self.arriving, self.ownership_unknown = True, False
        self.owned = True if self.proven else False if self.proven_by_another else None
        self._decide_move_rules()

    def _archive_lost_creation(self, held, log):
        """Step: the member at :attr:`lost_move_to` is one an earlier attempt of this send created (its signup time is
        the row's first claim), its answer lost, and no contact of the shop has that address now (a typo corrected):
        archived, so that nobody there is mailed on the contact's consent, and remembered as left (its erasure deletes
        it). Not one subscribed under double opt-in: its owner confirmed it (aud39 F3)."""
        try:
            yield Operation("DELETE", member_path(self.configuration.list_id, self.lost_move_to))
        except MailchimpNotFound:
            return
        self._remember_left(self.lost_move_to, held.get("unique_email_id", ""), members.ARCHIVED, held)
        log("member.archived", "%s was archived: an earlier attempt whose answer was lost created this contact's "
            "member there, and no contact of the shop has the address now" % self.lost_move_to)

    def _no_member_left(self, log, read_new=False):
        """Mailchimp has no member under the address the contact leaves (deleted there): the write below creates the
        contact's own at the new address, unless Mailchimp holds one there already (read first, unless the contact's
        owner proved the address theirs, or ``read_new``: read already, none there), which is someone else's: its
        data and tags are left alone."""
        held = "" if self.owned or read_new else (yield from self._arriving_at_held_member())
        if held:
            self.tags_applied, self.tags_found = set(), set()
            self._leave_member_alone()
        else:
            # The write only creates the member where the read found none (see :meth:`_member_send`), with the
            # row's signup time (a lost answer's retry knows it by it).
            self.creating = self.creates = not self.owned
            self.owned = True
        log("member.email", "E-mail changed from %s to %s: Mailchimp had no member under the old address%s" % (
            self.previous_email, self.email, "; %s already had one, not this contact's: its names, language, groups "
            "and tags were left as they are" % self.email if held else ""))

    def _new_address_apart(self, log, read_new, why):
        """The member of the old address is not the contact's to move (``why``: another contact of the shop still
        has the address, or the member is not this contact's): it stays there, with its owner's consent, data and
        tags. The new address is a member of its own, written under the consent rules like any new member
        (status_if_new: subscribed only with this contact's consent), unless Mailchimp holds one there already that
        is not the contact's (``read_new``: read already)."""
        self.tags_applied, self.tags_found = set(), set()
        if self.owned is None:
            if not read_new and (yield from self._arriving_at_held_member()):
                self._leave_member_alone()
            elif self.owned is None:
                # Mailchimp held none there: the write only creates it (see _member_send), with the row's signup time.
                self.owned = self.creating = self.creates = True
        log("member.email", "E-mail changed from %s to %s: %s, whose member was left there; %s is written as a "
            "member of its own%s" % (
                self.previous_email, self.email, why, self.email, "" if self.owned else " (Mailchimp held one there "
                "already: its names, language, groups and tags were left as they are)"))

    def _move_member(self, held, status, log):
        """The contact's own member (``held``: as read under the old address) moves to the new address. Returns
        ``(link_on_move, restored, status)``: whether the move left it pending (a link mailed), or subscribed again
        (back at the address its owner proved), and the status for the new address's write."""
        list_id = self.configuration.list_id
        link_on_move = restored = False
        try:
            move = {"email_address": self.email}
            if self.move_confirms:
                move["status"] = members.PENDING
                # Pending after an earlier move (another typo): a move back still restores the subscription.
                left = self.row.subscription_moved_from if self.row.member_status == members.PENDING else ""
                if self.row.member_status == members.SUBSCRIBED:
                    # Subscribed in Mailchimp (not only in the shop's view of it): a move back restores it.
                    left = self.previous_email if held.get("status") == members.SUBSCRIBED else ""
            moved = yield Operation("PATCH", member_path(list_id, self.previous_email), move)
            self.owned = True  # its own member, moved along
            if self.move_confirms:
                # The member's status now is the new address's owner's to confirm: no write forces another.
                status, link_on_move = None, (moved or {}).get("status") == members.PENDING
                self.subscription_moved_from = left if link_on_move else ""
                # Should a later step fail, the row knows the member is at the new address, and what the move
                # decided (aud40 F3: else an upemail of it heard meanwhile was undone by the retry, which moved the
                # member back from the owner's address; aud41 F4: a move back then asked to confirm again).
                self.written = {"email": self.email, "shop_email": self.shop_email,
                                "subscription_moved_from": self.subscription_moved_from}
                if (moved or {}).get("status"):
                    self.written["member_status"] = moved["status"]
                if link_on_move:
                    self.written["consent_request"] = consent.request_left(ConsentRequest.SIGNUP, members.PENDING)
            elif self.move_restores:
                # Back at the address its owner proved, where the member was subscribed before: as it was. Not
                # recorded before its write: a retry must move it back again and restore it (aud41 F4).
                status, restored, self.subscription_moved_from = members.SUBSCRIBED, True, ""
            else:
                self.written = {"email": self.email, "shop_email": self.shop_email}
            log("member.email", "E-mail changed in Mailchimp from %s to %s%s" % (
                self.previous_email, self.email, "; double opt-in: the new address's owner is asked to confirm "
                "the consent (pending)" if self.move_confirms else "; double opt-in: back at the address its "
                "owner proved, where the member was subscribed before the move: subscribed again"
                if self.move_restores else ""))
        except MailchimpNotFound:  # deleted since it was read
            yield from self._no_member_left(log)
        except MailchimpAPIError as error:
            if not errors.member_exists(error):
                raise
            # The new address already has a member of its own. The person lives there now: the old
            # address is archived (no longer mailed), and the shop's consent goes with the person.
            yield from self._left_behind(archiving=True)  # archived, it keeps the contact's data
            try:
                yield Operation("DELETE", member_path(list_id, self.previous_email))
            except MailchimpNotFound:
                pass
            # The tags the shop applied (and found) are the archived member's: the member moved into carries its
            # own, read from its write's answer below (a rule's tag it has already was added by hand there).
            self.tags_applied, self.tags_found = set(), set()
            back = self.owned is None and (yield from self._read_member_left())
            if back:
                self.owned = True  # the contact's own, left here earlier: its status as run() decides
            elif self.owned is None:
                # Someone else's member (Shuup does not verify an address typed into an account), whatever the
                # consent: it keeps its names, language, groups and tags.
                self._leave_member_alone()
            if not back and (self.permission or self.consent_request == ConsentRequest.CONFIRM):
                # The member under the new address may be someone else's (Shuup does not verify an address
                # typed into an account): its owner confirms the shop's consent first, unless subscribed.
                self.status_found = ((yield from read_member(list_id, self.email, "status")) or {}).get("status", "")
                if self.status_found not in (members.SUBSCRIBED, members.PENDING):
                    status = members.PENDING
                elif not self.owned:
                    # Subscribed, or a signup its owner has not confirmed: theirs, not this contact's to decide.
                    status = None
            log("member.email", "E-mail changed from %s to %s, which already had a member: the old address "
                "was archived%s%s" % (self.previous_email, self.email,
                                      " and its owner is asked to confirm the shop's consent" if status else "",
                                      "" if self.owned else "; its names, language, groups and tags were left "
                                      "as they are (not this contact's)"))
        return link_on_move, restored, status

    def _arriving_at_held_member(self):
        """Whether Mailchimp holds a member of the contact's new address already, the contact arriving there without
        consent of its own: a guest buyer's (their order's marketing box), a subscriber of Mailchimp's own form, an
        import; none of them this contact's (its own member is under the old address). Read first (one GET), as
        the newsletter block's signup does. Returns how the member is held ("" when Mailchimp has none, or when it is
        the contact's own: moved or created there by an earlier attempt of this send whose answer was lost, known
        by its ``unique_email_id`` or signup time, or one it left there earlier (:attr:`SyncState.members_left`: back
        at it, it is its own again and no longer remembered as left); :attr:`owned` then)."""
        member = yield from read_member(self.configuration.list_id, self.email, ARRIVAL_FIELDS + ",unique_email_id")
        if member is None:
            return ""
        if self._back_at_member_left(member):
            self.owned = True
            return ""
        if self._left_here(member):
            return "Mailchimp holds a member of (subscribed by its owner since this contact left it)"
        if (self.row.unique_email_id and member.get("unique_email_id") == self.row.unique_email_id) or (
                created_by_an_earlier_attempt(member, self.row, self.stamp_shared)):
            self.owned = True
            return ""
        return "Mailchimp holds a member of (not this contact's)"

    def _read_member_left(self):
        """Whether the member of the address the contact arrives at is one it left there earlier (read only when
        :attr:`SyncState.members_left` names the address: :meth:`_back_at_member_left`)."""
        key, left = address_key(self.email), getattr(self.row, "members_left", None) or []
        if not any(address_key(entry.get("email", "")) == key for entry in left):
            return False
        member = yield from read_member(self.configuration.list_id, self.email, "status,unique_email_id")
        return member is not None and self._back_at_member_left(member)

    def _left_here(self, member):
        """The entries of :attr:`SyncState.members_left` naming ``member`` (read at the address the contact arrives
        at): its address and ``unique_email_id``."""
        key, unique_email_id = address_key(self.email), member.get("unique_email_id")
        return [entry for entry in getattr(self.row, "members_left", None) or []
                if unique_email_id and address_key(entry.get("email", "")) == key
                and entry.get("unique_email_id") == unique_email_id]

    def _back_at_member_left(self, member):
        """Whether ``member`` (read at the address the contact arrives at) is one the contact left there earlier
        (:attr:`SyncState.members_left`, the same ``unique_email_id``): then it is dropped from the members left.
        Not one subscribed or pending again since it was left without a subscription (archived, unsubscribed): the
        contact's consent left with it, so that subscription is its mailbox owner's (Mailchimp's own form), as an
        erasure takes it (:meth:`ErasePlan._delete_member_left`); the member is another's, and stays remembered."""
        left = getattr(self.row, "members_left", None) or []
        subscribed = member.get("status") in (members.SUBSCRIBED, members.PENDING)
        back = [entry for entry in self._left_here(member) if not (subscribed and entry.get(
            "status", members.SUBSCRIBED) not in (members.SUBSCRIBED, members.PENDING))]
        if back:
            # From the list as this send left it (a member it archived under the address it leaves is on it).
            known = self.members_left if self.members_left is not None else left
            self.members_left = [entry for entry in known if entry not in back]
            self.left_member_status = member.get("status", "")
        return bool(back)

    def _arrived_at_shared(self, status, log, held_by):
        """The contact's new address has a member that is not the contact's (another contact of the shop has the
        address, or Mailchimp held a member of it: ``held_by`` says which), and the contact has no consent of its
        own: that member's status is its owner's, and this send leaves it as it is (its write carries no status, the
        member under the old address is not moved onto it). A status change of this contact's (its consent
        withdrawn in the save that changed its address: a stranger typing a subscriber's address into their account
        and unticking the box) is the consent given for the old address, and reaches the member there. Returns the
        status for the new address's write: none."""
        list_id = self.configuration.list_id
        # The tags the shop applied (and found) are the old member's: the member arrived at carries its own.
        self.tags_applied, self.tags_found = set(), set()
        # Nor are its data: the write carries none of the contact's names, language or groups (as the newsletter
        # block's signup leaves an existing member's alone: they may be a stranger's), and its tags stay as they are,
        # at this send and the later ones (:attr:`owned`), unless the contact's owner proved the address theirs.
        if not self.owned:
            self._leave_member_alone()
        if not (self.previous_left or self.previous_shared):
            yield from self._left_behind()  # its own member stays under the old address, with the contact's data
        left, member = "", None
        if status:
            try:
                member = yield Operation("PATCH", member_path(list_id, self.previous_email), {"status": status})
                left = (member or {}).get("status", "")
                if left and self.members_left and self.members_left[-1].get("email") == self.previous_email:
                    self.members_left[-1]["status"] = left  # the member it left is as the change made it
            except MailchimpNotFound:
                pass
            except MailchimpAPIError as error:
                if not errors.in_compliance_state(error):
                    raise
                left = "unchanged: %s" % error
        # The withdrawal unsubscribed the old address's member: its other contacts learn it (as any withdrawal).
        self.learnt.extend(address_unsubscribed(self.previous_email, status, left, self.permission,
                                                self.consent_changed_at or timezone.now(), self.row.object_id))
        permissions = member is not None and permissions_operation(list_id, self.previous_email, member,
                                                                   self.permission)
        if permissions:
            yield permissions
        log("member.email", "E-mail changed from %s to %s, which %s: its member keeps its status, and the member "
            "of %s was not moved onto it%s" % (
                self.previous_email, self.email, held_by, self.previous_email,
                "" if not status else "; the consent change was sent to %s (%s)" % (
                    self.previous_email, left or "no member there")))
        return None

    def tags_ignored(self, member):
        """Whether Mailchimp's answer to the member write lacks a merge tag the write carried (an answer lists
        every merge field of the audience), the audience's fields being read."""
        answer = member.get("merge_fields")
        if self.member_data_left_out or not isinstance(answer, dict) or \
                self.configuration.audience_merge_fields is None:
            return False  # before the fields are read, the shop sends FNAME and LNAME whatever the audience has
        return bool(set(self.member.get("merge_fields") or ()) - set(answer))

    def _signup_read(self, status, log):
        """A consent typed into the newsletter block: the member of the address is read first. A new one is
        written in full; one Mailchimp holds already (a guest buyer, a subscriber of Mailchimp's own form) keeps
        its names, language and groups (the block's are a stranger's, maybe), and gets only the status the consent
        rules ask: pending, unless subscribed or pending already. Returns the status to send, and the member's status
        as read ("" when Mailchimp has none)."""
        existing = yield from read_member(self.configuration.list_id, self.email, ARRIVAL_FIELDS)
        if existing is None or self.owned is None and self.created_by_an_earlier_attempt(existing):
            # None there: the write creates the member, the contact's own (or an earlier attempt's write did).
            if self.owned is None:
                self.owned = self.creates = True
                self.creating = existing is None
            return status, ""
        if not self.owned:
            self.tags_found = set() if self.owned is None else self.tags_found
            self._leave_member_alone()
        found = (existing or {}).get("status", "")
        if status is None and self.existed_without_consent(None, found):
            status = self.status_asked(found)
        log("member.signup", "%s was in the audience already (as %s): the consent typed into the newsletter block "
            "was sent%s%s" % (self.email, found or "a member", " as %s" % status if status else "",
                              "" if self.owned else ", without the names, language or groups typed with it"))
        return status, found

    def _member_send(self, status, log):
        """The member PUT; returns Mailchimp's member (with ``_status_sent``, the status finally asked for), or
        the Outcome when an interest is missing."""
        try:
            member = yield self.member_operation(status, create=self.creating)
        except MailchimpAPIError as error:
            if self.creating and errors.member_exists(error):
                # Created since the read found none (another contact's send, another worker, the person on
                # Mailchimp's own form): someone else's, left alone as a member found by the read is.
                self.owned, self.creates, self.creating = None, False, False
                self.tags_found = set()
                self._leave_member_alone()
                log("member.kept", "Mailchimp holds a member of %s created since this send read it: this contact's "
                    "sends leave that member's names, language, groups and tags as they are" % self.email)
                return (yield from self._member_send(status, log))
            if errors.interest_missing(error):
                return interest_missing(self.configuration, error.as_log_data())
            if errors.merge_fields_invalid(error):
                # A mapped field retyped in Mailchimp? The audience's fields say: when they changed since the
                # shop read them, they are recorded and the contact is sent again with them; else it is refused.
                fields = resources.merge_fields_of((yield Operation(
                    "GET", resources.merge_fields_path(self.configuration.list_id),
                    params=dict(resources.MERGE_FIELDS_QUERY))))
                if same_fields(fields, self.configuration.audience_merge_fields):
                    raise error
                return merge_fields_changed(self.configuration, error.as_log_data(), AudienceFieldsLearnt(fields))
            if status != members.SUBSCRIBED or not errors.in_compliance_state(error):
                raise
            # Someone who unsubscribed or bounced can only come back by confirming: Mailchimp mails them.
            status = members.PENDING
            member = yield self.member_operation(status)
            log("member.confirmation", "%s gave consent again in the shop after unsubscribing in Mailchimp: "
                "Mailchimp sent them a confirmation e-mail (pending until they confirm)" % self.email)
        return dict(member or {}, _status_sent=status)



def existed_without_consent(consent_request, permission, status_sent, member_status):
    """The one rule of "a member existed in Mailchimp without the shop's consent", for both transports: the member
    write carried a consent just given (or a confirmation asked for) only as ``status_if_new`` (``status_sent`` is
    empty), and the answer shows a member that existed already without it (a former guest buyer, someone who
    unsubscribed long ago): the consent must still be sent as a change, with :meth:`ContactPlan.status_asked`. A
    member subscribed or pending is left as it is; an answer without a status tells nothing.

    The rule is one; what follows it cannot be, without changing what Mailchimp receives. One by one
    (:meth:`ContactPlan.run`) the change is a second member PUT at once, whose answer may ask for a confirmation
    instead (a member in a compliance state: ``_member_send``). A batch phase cannot send a request that depends
    on an answer of the same batch, nor read a refusal in between, so the batch (``_read_members``) closes the row
    as a retry that learnt the member's status, and the row's next plan sends the same change (one by one when it
    subscribes). Sending the change one by one as a retry too would delay every such consent by a retry; sending
    it in a later batch phase would lose the compliance fallback."""
    asked = (consent_request in ConsentRequest.GIVEN and permission) or consent_request == ConsentRequest.CONFIRM
    return bool(asked) and not status_sent and member_status not in ("", members.PENDING) and not (
        consent.confirmed_already(member_status))


def consent_made(permission, arriving, status_sent, status_before, member_status, created=False):
    """The one rule of "the contact's consent made the member's subscription" (``SyncState.consent_made``), for both
    transports: what the row records after a member write (None: as it was). Made: the write sent the consent as a
    change (``status_sent``, subscribed or pending) to a member that was neither (``status_before``: as the first
    write's answer showed it, or as the row last knew it), or it ``created`` the member (none was there), and
    Mailchimp's answer shows it subscribed or pending: nobody else's consent is behind that subscription, even on a
    member not the contact's (a guest buyer's; or one whose address another contact proved since, while the send
    was out). Not made, or no longer: the contact does not consent (``permission``), or arrives at the address by
    this send at a member that was there."""
    if permission and member_status in CONSENTED and (created or status_sent in CONSENTED and (
            status_before not in ("",) + CONSENTED)):
        return True
    return False if not permission or arriving else None


def written_facts(email, member_status, permission, decided, consent_request="", written_from=None):
    """The facts of a member write whose send then failed (the customer, the tags): the row records them, so
    that a consent withdrawn next is sent as a change. Without them the row kept "consent never sent", and a
    member subscribed by the failed attempt stayed subscribed after the withdrawal. A shopper's consent
    request the write carried is done; merge fields it emptied once (``written_from``: its claim) are not again."""
    facts = dict(email=email, member_status=member_status)
    if written_from is not None:
        facts["member_written_from"] = written_from
    if decided:
        facts["opt_in"] = permission
        if consent_request:
            facts["consent_request"] = consent.request_left(consent_request, member_status)
    return facts


#: What a send arriving at an address reads of the member it finds there: whose it is (its status, and the signup time
#: that tells the member an earlier attempt of the row created).
ARRIVAL_FIELDS = "status,timestamp_signup"


def field_digests(value):
    """The digests of a merge field's value (an address object too), the one to store first
    (:func:`shoop_mailchimp.encryption.digests`: keyed, so that a digest kept of an erased person's birthday or phone
    cannot be reversed without the key): tell a value written by the shop from one typed since without keeping it."""
    return encryption.digests(json.dumps(value, sort_keys=True))


def field_digest(value):
    """The digest of a merge field's value to store (:func:`field_digests`)."""
    return field_digests(value)[0]


#: The entry of a ``{tag: digest}`` map naming the key its digests were made with (no merge tag is "*").
DIGEST_KEY = "*"


def left_field_digests(merge_fields):
    """``{tag: digest}`` of the merge fields a member left by its contact holds (the empty ones hold nothing)."""
    return dict({tag: field_digest(value) for tag, value in merge_fields.items() if value not in ("", None, {})},
                **{DIGEST_KEY: encryption.digest_key_ids()[0]})


def digests_comparable(digests):
    """Whether a ``{tag: digest}`` map can still be compared with a member's values: made with a key still
    configured (or kept before digests were keyed and named their key). Else an erasure clears every field the shop
    fills, as for a row that kept none."""
    return digests is not None and (DIGEST_KEY not in digests or digests[DIGEST_KEY] in encryption.digest_key_ids())


#: How many values of each merge field ``SyncState.fields_written`` remembers (a write whose answer was lost, and the
#: ones before it, may each be what the member holds).
DIGESTS_PER_FIELD = 4


def fields_written(known, merge_fields):
    """``SyncState.fields_written`` once a member write carrying ``merge_fields`` (the contact's data) may have landed:
    each field written remembers the digest of its value beside those of the last values before it (the write may
    not land, its answer lost: the member then holds an earlier one). Noted before the write goes out."""
    written = {tag: list(digests) for tag, digests in (known or {}).items() if tag != DIGEST_KEY}
    for tag, value in (merge_fields or {}).items():
        if value not in ("", None, {}):
            digest = field_digest(value)
            earlier = [other for other in written.get(tag, []) if other != digest]
            written[tag] = ([digest] + earlier)[:DIGESTS_PER_FIELD]
    written[DIGEST_KEY] = encryption.digest_key_ids()[0]
    return written


def still_written(digests, merge_fields):
    """The merge tags of a member (``merge_fields`` as read) that still hold what ``digests`` (``{tag: digest}``, or
    ``{tag: [digest, ...]}``) say a write put there."""
    held = {tag: set(field_digests(value)) for tag, value in merge_fields.items()
            if tag != DIGEST_KEY and value not in ("", None, {})}
    return sorted(tag for tag, digest in (digests or {}).items()
                  if tag in held and held[tag] & set([digest] if isinstance(digest, str) else digest))


def member_address(list_id, unique_email_id):
    """Step (yields the GET): the address of the audience's member with this ``unique_email_id`` (Mailchimp keeps it
    across an address change), or None when none has it."""
    if not unique_email_id:
        return None
    answer = yield Operation("GET", members_path(list_id), params={
        "unique_email_id": unique_email_id, "fields": "members.email_address", "count": 1})
    found = (answer or {}).get("members") or []
    return found[0].get("email_address") if found else None


def read_member(list_id, email, fields):
    """Step (yields the GET): the member of ``email`` as Mailchimp holds it (only ``fields``), or None when it holds
    none."""
    try:
        return (yield Operation("GET", member_path(list_id, email), params={"fields": fields})) or {}
    except MailchimpNotFound:
        return None


def signup_stamp(moment):
    """A member's ``timestamp_signup`` as the shop sends it and Mailchimp keeps it: UTC, whole seconds."""
    return moment.astimezone(dt_timezone.utc).replace(microsecond=0)


def created_by_an_earlier_attempt(member, row, stamp_shared):
    """Whether ``member``, found by a send arriving at its address (a first send, a move), is the one an earlier
    attempt of ``row`` created (its worker died, or its answer was lost, and other attempts may have failed since):
    its ``timestamp_signup`` is the row's :attr:`~SyncState.first_claimed_at` (the member write of a send that creates
    the member carries it). Never where another contact's row was first claimed in the same second
    (``stamp_shared``, :func:`stamps_shared`: either send may have created the member; names cannot tell two nameless
    contacts apart): the member is then taken as another's, which leaves every subscription as it is. A member held
    before, or made by someone else since, signed up at another moment. The row's first attempt (claimed when first
    claimed) has no earlier one."""
    return bool(row.first_claimed_at) and row.claimed_at != row.first_claimed_at and not stamp_shared and (
        parse_datetime(member.get("timestamp_signup") or "") == signup_stamp(row.first_claimed_at))


def confirmation_lifetime():
    return timedelta(seconds=get_setting("CONFIRMATION_LIFETIME"))


def link_mailed(member_status, status_sent, status_before):
    """Whether the member write had Mailchimp mail a confirmation link: the member is pending, asked so now
    (a fresh link) or new to pending."""
    return member_status == members.PENDING and (status_sent == members.PENDING or status_before != members.PENDING)


def sent_outcome(email, shop_email, permission, fingerprint, member_status, status_change, decided_at,
                 unique_email_id=None, unsubscribed_meanwhile=False, tag_change=None, consent_request="",
                 link_asked=False, learnt=(), contact_id=None, seen_at=None, foreign_member=None, compared_at=None):
    """The Outcome of a contact Mailchimp took, one by one or in a batch. ``unique_email_id``: Mailchimp's
    answer when the member was written (None when its PUT was skipped); ``decided_at``: when the shop's
    consent decision left, so that an unsubscribe recorded after it stays newer; ``tag_change``: the
    :class:`~.tags.TagChange` made (None when the member has no tags to keep); ``consent_request``: the
    shopper's request this send carried, now done; ``learnt``: what the send taught the shop
    (:func:`address_unsubscribed`); ``contact_id``: the row's contact, and ``seen_at``: when its row last saw the
    member (its last send), for an unsubscribe the answer shows that the shop never heard of; ``foreign_member``:
    whether the member is not the contact's (:attr:`ContactPlan.owned`; None: unknown, the row keeps what it had);
    ``compared_at``: when the send compared the contact's tags with the shop's rules (its claim)."""
    # Unsubscribed in Mailchimp without the shop hearing of it yet (the webhook is late, lost, or not
    # registered): the shop learns it from this answer, as it would from the webhook.
    withdrawn = permission and member_status == members.UNSUBSCRIBED and (unsubscribed_meanwhile or not status_change)
    facts = dict(email=email, shop_email=shop_email, opt_in=permission and not withdrawn,
                 member_status=member_status, fingerprint=fingerprint)
    if unique_email_id is not None:
        facts["unique_email_id"] = unique_email_id
        if compared_at is not None:
            facts["member_written_from"] = compared_at  # the member was written, built at the claim
    if tag_change is not None:
        facts["applied_tags"] = tags.format_tags(tag_change.applied)
        facts["found_tags"] = tags.format_tags(tag_change.found)
        facts["tags_compared_at"] = compared_at
    if consent_request:
        facts["consent_request"] = consent.request_left(consent_request, member_status)
    if status_change:
        facts["consent_sent_at"] = decided_at
    if link_asked:
        facts["confirmation_sent_at"] = decided_at  # the link's lifetime runs from here
    if foreign_member is not None:
        facts["foreign_member"] = foreign_member
    outcome = Outcome.synced(**facts)
    outcome.withdraw_consent = withdrawn
    outcome.learnt.extend(learnt)
    if withdrawn and contact_id is not None:
        # Mailchimp holds one member of the address: the shop's other contacts with it learn the unsubscribe too, as
        # from the webhook. It was made after the address's rows last saw the member (``seen_at``, or another row's
        # later send); a contact whose consent changed after that keeps its choice (sent as a change: the address
        # is asked to confirm).
        outcome.learnt.append(AddressUnsubscribed(
            email, seen_at or decided_at, contact_id, found=True,
            reason="a send found the address unsubscribed in Mailchimp (its webhook never reached the shop)"))
    return outcome


def address_unsubscribed(email, status_change, member_status, permission, decided_at, contact_id):
    """``[AddressUnsubscribed]`` when the shop's withdrawal of the contact unsubscribed the member of ``email``
    (``decided_at``: when the shop decided it, the contact's consent change), else ``[]``. One rule for both
    transports, and for the member under the old address of a contact that moved onto another's."""
    if status_change == members.UNSUBSCRIBED and member_status == members.UNSUBSCRIBED and not permission:
        return [AddressUnsubscribed(email, decided_at, contact_id)]
    return []


class AddressUnsubscribed:
    """The shop's withdrawal of one contact unsubscribed the member of its address: Mailchimp holds one member of
    an address, so the shop's other contacts with it learn it as from Mailchimp's ``unsubscribe`` webhook (their
    consent withdrawn, their rows told the member's status, confirmations asked for them dropped): no other
    contact's page claims a subscription, and no later send of theirs asks the unsubscribed address to confirm.
    One code path with the webhook (:mod:`shoop_mailchimp.member_events`), logged as ``send.unsubscribe``. A send
    that finds the member unsubscribed in Mailchimp (a lost webhook: :func:`sent_outcome`) teaches the other
    contacts the same way, counted from when the row last saw the member.

    The other contacts are those of the shop with the address (their address keys, sent or not yet: a contact
    created meanwhile) and the rows that last sent it. The withdrawal counts from when the shop decided it
    (``decided_at``: the withdrawn contact's consent change), not from when the worker sent it: a contact whose
    consent changed after it (a shopper's *Subscribe* while the withdrawal waited for the worker) keeps its choice,
    and its consent is sent again as a change (Mailchimp's member now unsubscribed: it asks the address to
    confirm)."""

    def __init__(self, email, decided_at, contact_id, reason="", found=False):
        self.email = email
        self.decided_at = decided_at
        self.contact_id = contact_id
        self.reason = reason or "the shop withdrew the consent of a contact with this address"
        #: Found in Mailchimp's answer rather than made by the shop: it happened after the address's rows last saw
        #: the member (``decided_at``, the found row's last send, or another row's later send), when exactly is
        #: unknown.
        self.found = found

    def remember(self, configuration):
        """Returns the ids of the rows it changed."""
        shop_id = configuration.shop_id
        holders = set(shop_contacts_with_keys(shop_id, address_keys([self.email])).values_list("pk", flat=True))
        rows = list(SyncState.objects.contacts().filter(shop_id=shop_id, erase=False).filter(
            Q(email__iexact=self.email) | Q(object_id__in=holders)).exclude(object_id=self.contact_id))
        if self.found:
            self.decided_at = max([self.decided_at] + [row.last_synced_at for row in rows if row.last_synced_at])
        newer = [row for row in rows if self._newer(row)]
        told = [row for row in rows if row not in newer]
        told_ids = (holders | {row.object_id for row in told}) - {row.object_id for row in newer} - {self.contact_id}
        if told_ids:
            event = {"type": "unsubscribe", "fired_at": self.decided_at, "data": {
                "email": self.email, "list_id": configuration.list_id, "action": "unsub",
                "reason": self.reason}}
            member_events.handle_event(configuration, event, source="send", states=told, told_ids=told_ids)
        if newer:
            state.unsubscribed_under(shop_id, [row.pk for row in newer])
        return {row.pk for row in rows}

    def _newer(self, row):
        """Whether the row's contact decided after the withdrawal (in the shop, or in Mailchimp)."""
        return any(moment is not None and moment > self.decided_at
                   for moment in (row.consent_changed_at, row.mailchimp_fact_at))


def interest_missing(configuration, error_data):
    """Someone deleted a group's interest in Mailchimp: every mapped group is checked (and its interest
    re-created), and the contact is tried again after them. Nothing pauses the shop."""
    outcome = Outcome(Result.RETRY, "An interest of a contact group is missing in Mailchimp; the groups are "
                      "being repaired and the contact is sent again after them.", error=error_data)
    outcome.requeue = [(SyncKind.GROUP, set(ContactGroupInterest.objects.filter(
        shop_id=configuration.shop_id).values_list("group_id", flat=True)), False)]
    return outcome


def merge_fields_changed(configuration, error_data, learnt):
    """Mailchimp refused the member's merge fields: the audience's fields are read again (``learnt``), and the
    contact is tried again with the mapping they give. Nothing pauses the shop, and no admin needs to act."""
    return Outcome(Result.RETRY, _("Mailchimp refused the member's merge fields: the audience's merge fields were "
                                   "read again (one may have been changed in Mailchimp), and the contact is sent "
                                   "again with them."), error=error_data, learnt=[learnt])


def before_close(row, outcome):
    """In the transaction that closes a batch's row: a row whose send found the person unsubscribed locks its
    contact before the row, in the order a shop's save locks them (then records): the other order could
    deadlock with it, and PostgreSQL could kill the shop's save."""
    if outcome.withdraw_consent:
        list(Contact.objects.select_for_update().filter(pk=row.object_id).values_list("pk"))


def after_close(row, outcome, status, journal):
    """What a closed row does besides itself: the send found the person unsubscribed in Mailchimp and the row
    closed as synced (a row changed meanwhile is sent again instead): the shop's consent is withdrawn."""
    if outcome.withdraw_consent and status == SyncStatus.SYNCED:
        withdraw_consent(row, journal)


def withdraw_consent(row, journal):
    """The person unsubscribed in Mailchimp: the shop's consent goes too (no post_save, nothing is sent to this
    audience), in every shop (see :func:`~shoop_mailchimp.member_events.record_withdrawal`)."""
    if Contact.objects.filter(pk=row.object_id, marketing_permission=True).update(marketing_permission=False):
        member_events.record_withdrawal(row.shop_id, [row.object_id], worker=True)
        journal.add("consent.withdrawn", _("Mailchimp reports this person unsubscribed: the shop's marketing "
                                           "permission is withdrawn as well."), kind=LogKind.WARNING,
                    contact_id=row.object_id)


def permissions_operation(list_id, email, member, permission):
    """The PATCH that sets every marketing permission the member carries to ``permission``, or None when
    the audience has none or they already say so."""
    listed = (member or {}).get("marketing_permissions") or []
    if all(item.get("enabled") == permission for item in listed):
        return None
    wanted = [{"marketing_permission_id": item["marketing_permission_id"], "enabled": permission} for item in listed]
    return Operation("PATCH", member_path(list_id, email), {"marketing_permissions": wanted},
                     params={"skip_merge_validation": "true"})


def erase_member(list_id, email, held_by_others, log, where=""):
    """An erasure's member: permanently deleted from the audience (a permanent delete cannot be undone; a member
    already gone is done), unless another of the shop's contacts still has the address (``held_by_others``):
    Mailchimp has one member of the address, and it is theirs too. Steps (yields the Operation) of
    :class:`ErasePlan`; ``where`` names the member in the log."""
    if held_by_others:
        log("member.kept", "%s was not deleted%s (erasure): another contact of the shop has the address, and the "
            "member is theirs too" % (email, where))
        return
    try:
        yield Operation("POST", member_path(list_id, email) + "/actions/delete-permanent")
    except MailchimpNotFound:
        pass
    log("member.delete_permanent", "Member permanently deleted%s (erasure)" % where)


def write_kept_member(list_id, email, body):
    """Step: the PATCH of a member an erasure keeps (the erased person's merge fields cleared, their groups' interests
    off, an unsubscribe); returns the member as written (None: none there). An interest a marketer deleted in
    Mailchimp makes it refuse the whole write ("Invalid interest ID"): the interests the member still has are read,
    and it is written again naming only those, so that the erased person's data still goes (review aud47 F1)."""
    params = {"skip_merge_validation": "true"}
    try:
        return (yield Operation("PATCH", member_path(list_id, email), body, params=params))
    except MailchimpAPIError as error:
        if not (body.get("interests") and errors.interest_missing(error)):
            raise
    member = yield from read_member(list_id, email, "interests")
    if member is None:
        return None
    held = set(member.get("interests") or ())
    body = dict(body, interests={interest: value for interest, value in body["interests"].items() if interest in held})
    if not body["interests"]:
        del body["interests"]
    return (yield Operation("PATCH", member_path(list_id, email), body, params=params))


def unsubscribe_kept_member(list_id, email, contact_id, decided_at, learnt, log, why, merge_fields=None,
                            interests=None):
    """The one rule of a contact's consent leaving an address the shop's other contacts keep (the contact erased, or
    moved to another address), none of them consenting (:func:`consent_left_with`): Mailchimp's member of ``email``
    (theirs too) is never deleted, but no subscription stays without a consent in the shop: it is unsubscribed, and
    the other contacts learn it (``learnt`` gets :class:`AddressUnsubscribed`, counted from ``decided_at``). Steps
    (yields the Operation); ``why`` starts the log entry; ``merge_fields`` and ``interests`` go with the same write
    (an erasure's cleared fields, its groups' interests off). Returns the member's status now ("" when none)."""
    body = {"status": members.UNSUBSCRIBED}
    if merge_fields:
        body["merge_fields"] = merge_fields
    if interests:
        body["interests"] = interests
    try:
        member = yield from write_kept_member(list_id, email, body)
    except MailchimpNotFound:
        member = None
    left = (member or {}).get("status", "")
    learnt.extend(address_unsubscribed(email, members.UNSUBSCRIBED, left, False, decided_at, contact_id))
    log("member.unsubscribed", "%s; none of them consents, so it was unsubscribed (%s)%s" % (
        why, left or "no member there", "; the erased contact's data was cleared from it (%s)" % ", ".join(
            sorted(merge_fields)) if merge_fields else ""))
    return left


def lost_consent(row):
    """Whether a lost attempt of the row (recovered) set out to carry the contact's consent (noted before it sent:
    ``SyncState.consent_unanswered``, the status it asked), which its write may have given the member (aud40 F2).
    What the contact does since (withdraws, moves, is erased: aud42 F2, F3) does not change what the attempt
    carried, and a consent given after it was not carried (aud42 F5)."""
    return bool(getattr(row, "recovered", False) and getattr(row, "consent_unanswered", ""))


def consent_left_with(shop_id, row, carried=False):
    """Whether the consent the member of the row's address last sent was subscribed with leaves with the row (its
    contact erased, or moved to another address): the row last sent its consent given (or asked the address to
    confirm one: the member pending), and none of the shop's other contacts with the address consents in this shop.
    A member subscribed without the row's consent (its owner subscribed on Mailchimp's own form) is the owner's: no
    consent of the shop's leaves it; nor does one leave a member that was not the row's contact's
    (``SyncState.foreign_member``: its subscription is its owner's, see ``withdrawal_own_only``), unless the row's
    consent made that subscription (``SyncState.consent_made``: a guest buyer's member it subscribed). ``carried``: a
    lost attempt may have sent the consent given now (:func:`lost_consent`). One query, for a row whose address
    another contact has, or whose consent made the subscription of a member not its own."""
    asked = row.member_status == members.PENDING and row.consent_request == ConsentRequest.CONFIRM
    if not (carried or row.member_status not in (members.ERASED, members.ARCHIVED) and (row.opt_in or asked)):
        return False
    if getattr(row, "foreign_member", False) and not (row.opt_in and getattr(row, "consent_made", False)):
        return False
    return not consenting_in_shop(shop_id, holders_of(shop_id, row.email).exclude(pk=row.object_id))


def consenting_in_shop(shop_id, contacts):
    """The ids of ``contacts`` (a queryset) that consent in the shop."""
    consenting = set(contacts.filter(marketing_permission=True).values_list("pk", flat=True))
    return consenting - shop_consent.withheld(shop_id, consenting)


def made_by_a_consent_gone(row, email):
    """Whether the subscription of the member of ``email`` (no other contact of the shop has the address) is the one
    the consent of another row of the shop made there (``SyncState.consent_made``: its contact's member was not its
    own), a contact erased or moved away since: not its owner's own signup (review aud48 F4: two erased contacts'
    member stayed with the names of one of them). One query of the few rows whose consent made a subscription."""
    key = address_key(email)
    return any(address_key(other or "") == key for other in SyncState.objects.filter(
        shop_id=row.shop_id, kind=KIND, consent_made=True, opt_in=True).exclude(pk=row.pk).values_list(
        "email", flat=True))


def signup_second_shared(row, email):
    """Whether another contact row of the shop that names ``email`` (its address, or the one its send noted) was first
    claimed in the second of ``row``'s first claim (the signup time a member its attempts create carries): a member of
    ``email`` signed up in it may be that row's contact's (aud45 F1, F2). One query."""
    if not row.first_claimed_at:
        return False
    second, key = signup_stamp(row.first_claimed_at), address_key(email)
    named = SyncState.objects.filter(shop_id=row.shop_id, kind=KIND, first_claimed_at__gte=second,
                                     first_claimed_at__lt=second + timedelta(seconds=1)).exclude(pk=row.pk)
    return any(key in (address_key(other or ""), address_key(noted or ""))
               for other, noted in named.values_list("email", "move_sent_to"))


def subscribed_by_a_lost_attempt(member, row):
    """Whether a member not the contact's (as read) may have been subscribed by a lost attempt of ``row``: subscribed
    or pending now, and not when the row last heard of it (its last send's answer, or a ``subscribe`` event: the
    owner's own). A consent to another's member changes its status only where it was neither (see run), so a member
    subscribed before is its owner's."""
    return member.get("status") in CONSENTED and row.member_status not in CONSENTED


def subscription_of_others(row):
    """Whether the row's member is not its contact's (``SyncState.foreign_member``) and no subscription there is
    known to be the one its consent made (``SyncState.consent_made``)."""
    return bool(getattr(row, "foreign_member", False)) and not getattr(row, "consent_made", False)


def subscribed_by_its_consent(row):
    """Whether the row's member is not its contact's (``SyncState.foreign_member``) and its subscription is the one
    the contact's consent made (``SyncState.consent_made``: a guest buyer's member its consent subscribed)."""
    return bool(getattr(row, "foreign_member", False) and row.opt_in and getattr(row, "consent_made", False))


class ErasePlan:
    """Forget the person in Mailchimp for good: the member (by the e-mail last sent) and the customer.

    The member is left alone when another of the shop's contacts still has its address (``shared``, loaded with
    the slice the worker plans, when the erasure is sent rather than when it was asked: a contact given the address
    meanwhile counts): Mailchimp has one member of the address, and it is that contact's too (a duplicate contact
    deleted, an account registered with someone else's address anonymized). It is never deleted then; but when
    none of those contacts consents (``withdraw``: the erased contact's consent was the one it was subscribed with),
    it is unsubscribed, and the other contacts learn it (:class:`AddressUnsubscribed`). A member that was not the
    erased contact's (``SyncState.foreign_member``) is never deleted nor written either; but a subscription the
    contact's consent made there (:func:`subscribed_by_its_consent`) ends with it as well (``withdraw``: unless
    another contact of the shop with the address consents). Only the erased contact's customer goes."""

    #: A permanent delete cannot be undone: it is sent alone, one by one.
    batchable = False

    @property
    def addresses(self):
        """The addresses whose members this erasure reads and writes (its own, and those it left): a concurrent
        drain never sends another contact's plan naming one meanwhile (a clearing beside that contact's write would
        leave it nameless)."""
        left = getattr(self.row, "members_left", None) or []
        return {address_key(email) for email in [self.row.email, self.noted_address] + [
            member.get("email", "") for member in left] if email}

    @property
    def noted_address(self):
        """The address a send of the row set out to write the member at, a move's or a first send's
        (``SyncState.move_sent_to``, noted before it sent), when the row never learnt how it ended: its answer was
        lost, or its worker died."""
        noted = getattr(self.row, "move_sent_to", "") or ""
        return noted if noted and address_key(noted) != address_key(self.row.email or "") else ""

    def __init__(self, configuration, row, shared=False, withdraw=False, mapped_tags=(), left_shared=(),
                 interest_ids=(), unmapped_tags=()):
        self.configuration = configuration
        self.row = row
        #: The address keys of the members the contact left (``SyncState.members_left``) another contact of the shop
        #: has to do with (:func:`members_left_shared`).
        self.left_shared = set(left_shared)
        self.shared = shared
        self.withdraw = (shared or subscribed_by_its_consent(row)) and withdraw
        #: The merge tags a member write fills (the shop's mapping): a member kept for others is left none of the
        #: erased person's data (names, phone, birthday, addresses...).
        self.mapped_tags = sorted(set(mapped_tags))
        #: The fields the shop created and filled before (unmapped since): a member the contact left, whose last
        #: write may predate the unmapping, is cleared of them too.
        self.unmapped_tags = sorted(set(unmapped_tags))
        #: The interests of the shop's contact groups: a member the contact left, kept for others, is in none of them.
        self.interest_ids = sorted(set(interest_ids))
        #: The tags cleared on the member kept for the other contacts of its address, who write theirs again. None
        #: when the member was not the erased contact's: none of its data is there, and its owner's stays.
        self.cleared = self.mapped_tags if shared and not getattr(row, "foreign_member", False) else []
        #: What the send taught the shop (the address unsubscribed), remembered even if the customer's delete fails.
        self.learnt = []
        #: Mailchimp's refusals for good of a member's steps (:meth:`_past_a_refusal`); whether the members at the
        #: contact's address and at the noted address were done, and the entries of ``members_left`` that were
        #: (:attr:`written`).
        self.refused = []
        self.address_done = self.noted_done = False
        self.members_left_done = []
        #: Whether a step unsubscribed a member the contact's consent subscribed: that consent is ended, also when a
        #: later step stops the erasure (:attr:`written`).
        self.consent_ended = False

    def run(self, log):
        yield from self.erase_members(log)
        try:
            yield Operation("DELETE", customer_path(self.configuration.store_id, customer_id_for(self.row.object_id)))
            log("customer.delete", "Customer deleted (erasure)")
        except MailchimpNotFound:
            pass
        if self.refused:
            outcome = Outcome.failed("Mailchimp refused part of the erasure (%s); the rest was done. Send it again "
                                     "once it is solved, or delete the member in Mailchimp." % (
                                         plain_reason(self.refused[0])), error=self.refused[0].as_log_data())
            outcome.facts = self.written
            outcome.learnt.extend(self.learnt)
            return outcome
        # Nothing of the erased person's stays on the row, not even the digests of their data.
        outcome = Outcome.synced(email="", shop_email="", fingerprint="", opt_in=None, member_status=members.ERASED,
                                 applied_tags="", found_tags="", consent_request="", foreign_member=None,
                                 members_left=[], fields_written=None, unique_email_id="")
        outcome.learnt.extend(self.learnt)
        return outcome

    def erase_members(self, log):
        """Steps: the erasure's rules for every member the contact may have in the audience: at its address, at the
        address a send whose answer never came noted, and those it left under earlier addresses. Each member's
        steps go on past Mailchimp's refusal of another's (:meth:`_past_a_refusal`): a member that cannot be
        deleted must not keep the others, nor the customer, with the erased person's data (review aud48 F1, F2)."""
        self.address_done = yield from self._past_a_refusal(self._erase_member_at_address(log), log)
        self.noted_done = not self.noted_address or (
            yield from self._past_a_refusal(self._delete_member_at_noted_address(log), log))
        for member in getattr(self.row, "members_left", None) or []:
            if (yield from self._past_a_refusal(self._delete_member_left(member, log), log)):
                self.members_left_done.append(member)

    def _past_a_refusal(self, steps, log):
        """Runs ``steps``; returns whether they were done. A refusal for good (Mailchimp's 400, not a passing
        failure, the account's problem or a missing audience, which end the erasure as any send) is logged as an
        error and kept in :attr:`refused`; the erasure goes on, and its row closes as failed once it has done all
        it can (sent again from the admin, it tries again what was refused: :attr:`written`)."""
        try:
            yield from steps
        except MailchimpAPIError as error:
            if not errors.is_refused_for_good(error) or errors.is_not_found(error):
                raise
            self.refused.append(error)
            log("member.delete_permanent", "Mailchimp refused a step of the erasure (%s): the erased person's data "
                "may remain on that member; delete it in Mailchimp" % error, kind=LogKind.ERROR)
            return False
        return True

    @property
    def written(self):
        """The facts an erasure that did not finish (Mailchimp refused a step for good, a passing failure or the
        customer's delete stopped it) closes its row with, so that sending it again, or another erasure of the
        address, acts only on what is left (review aud50 F1, F2; aud51 F2, F3: a resend unsubscribed, another erasure
        deleted, a signup its owner made since). The member at the contact's address handled (kept, unsubscribed or
        deleted): the consent the row last sent is no longer there to end again, nor a proof that a subscription
        there is not its owner's; with the noted address's member handled too, the row names no address any more.
        The members left: only those not done yet."""
        facts = {}
        if self.address_done or self.consent_ended:
            # A consent a step ended before a later one failed is not ended again by the retry: a subscription its
            # address's owner makes meanwhile is theirs (review aud55, a lead).
            facts.update(opt_in=None, consent_made=False)
        if self.address_done and self.noted_done:
            facts.update(email="", foreign_member=None)
        left = getattr(self.row, "members_left", None) or []
        if self.members_left_done:
            facts["members_left"] = [member for member in left if member not in self.members_left_done]
        return facts

    def _erase_member_at_address(self, log):
        """Step: the member at the contact's address: kept for another contact that has it, left as it is when it
        was not the contact's (but for a subscription its consent made), else deleted (:meth:`_delete_own_member`).
        The contact's own member at an address another contact has: :meth:`_erase_shared_own_member`."""
        if self.row.email and self.shared and not getattr(self.row, "foreign_member", False) and \
                self.row.unique_email_id:
            yield from self._erase_shared_own_member(log)
        elif self.row.email and self.shared:
            yield from self._keep_member(log)
        elif self.row.email and getattr(self.row, "foreign_member", False):
            # The member was not the erased contact's (ContactPlan.owned): it is its owner's, and none of the erased
            # contact's data is on it. Only a subscription the contact's consent made there leaves with it.
            why = ("%s was not deleted (erasure): the member was not this contact's (Mailchimp held it when the "
                   "contact arrived at the address), and none of its data was written there" % self.row.email)
            if self.withdraw:
                yield from unsubscribe_kept_member(
                    self.configuration.list_id, self.row.email, self.row.object_id,
                    self.row.consent_changed_at or timezone.now(), self.learnt, log,
                    "%s; its subscription was the one this contact's consent made, and no other contact of the shop "
                    "with the address consents" % why)
                self.consent_ended = True
            else:
                log("member.kept", why)
        elif self.row.email:
            yield from self._delete_own_member(log)

    def _delete_member_left(self, left, log):
        """A member of the contact's own it left under an earlier address (:attr:`SyncState.members_left`) is
        permanently deleted too, as its current one is (:meth:`_delete_own_member`), unless it is no longer the one
        the contact left (its owner made a new one since: another ``unique_email_id``), which stays as it is. It is
        kept, without the erased person's data (:meth:`_clear_member_left`), when someone may have it now: another
        contact of the shop has to do with its address (:func:`members_left_shared`), or it is subscribed or pending
        (the contact's consent left with it when it was left, archived or unsubscribed: a subscription there since is
        its owner's, on Mailchimp's own form); not one a send found moved away in Mailchimp (``moved``), whose
        subscription is still the contact's consent's."""
        list_id, email = self.configuration.list_id, left.get("email", "")
        member = yield from read_member(list_id, email, "status,unique_email_id,merge_fields")
        if member is None:
            return
        if bool(left.get("unique_email_id")) and member.get("unique_email_id") not in (
                "", None, left["unique_email_id"]):
            log("member.kept", "%s was not deleted (erasure): the member the contact left there was created again "
                "since" % email)
        elif address_key(email) in self.left_shared:
            # A member found moved away carries the subscription the contact's consent made: it leaves with the
            # contact unless one of those who have the address consents (review aud58 F2).
            withdraw = bool(left.get("moved")) and member.get("status") in CONSENTED and not consenting_in_shop(
                self.configuration.shop_id, holders_of(self.configuration.shop_id, email).exclude(
                    pk=self.row.object_id))
            yield from self._clear_member_left(left, member, log,
                                               "another contact of the shop has to do with the address", withdraw)
        elif member.get("status") in (members.SUBSCRIBED, members.PENDING) and not left.get("moved"):
            yield from self._clear_member_left(left, member, log, "it is %s, by its owner's consent since the "
                                               "contact left it" % member.get("status"))
        else:
            yield from erase_member(list_id, email, False, log, where=" (an address the contact left)")

    def _clear_member_left(self, left, member, log, why, withdraw=False):
        """A member the contact left (``left``, its :attr:`SyncState.members_left` entry; ``member`` as read now)
        that someone else may have now (``why``): it stays (a permanent delete would bar their consent from the
        address for good), but keeps none of the erased person's data (the merge fields that still hold what they
        held when the contact left, of any field: the contact's data, its contact groups' interests off; an entry
        recorded without them: every field the shop fills), and the shop's other contacts of the address write
        theirs again (:class:`MemberDataErased`). A value its owner typed there since is theirs and stays. A refusal
        to edit it (Mailchimp may keep archived contacts as they are) is logged: the erasure goes on. ``withdraw``:
        unsubscribed in the same write (:func:`unsubscribe_kept_member`)."""
        email = left.get("email", "")
        if "fields" in left and digests_comparable(left["fields"]):
            tags = still_written(left["fields"], member.get("merge_fields") or {})
        else:
            tags = self.mapped_tags + self.unmapped_tags
        body = {"merge_fields": dict.fromkeys(tags, "")}
        if self.interest_ids:
            body["interests"] = dict.fromkeys(self.interest_ids, False)
        try:
            if withdraw:
                yield from unsubscribe_kept_member(
                    self.configuration.list_id, email, self.row.object_id,
                    self.row.consent_changed_at or timezone.now(), self.learnt, log,
                    "%s was not deleted (erasure): the contact's member moved there, and %s" % (email, why),
                    merge_fields=body["merge_fields"], interests=body.get("interests"))
                self.learnt.append(MemberDataErased(email, self.row.object_id))
                return
            if (yield from write_kept_member(self.configuration.list_id, email, body)) is None:
                return
        except MailchimpNotFound:
            return
        except MailchimpAPIError as error:
            if not errors.is_refused_for_good(error):
                raise
            log("member.kept", "%s was not deleted (erasure): %s; Mailchimp refused to clear the erased contact's "
                "data from it: %s" % (email, why, error))
            return
        self.learnt.append(MemberDataErased(email, self.row.object_id))
        log("member.kept", "%s was not deleted (erasure): the contact left that member, and %s; the erased "
            "contact's data were cleared from it" % (email, why))

    def _erased_fields(self, email, tags):
        """Step: ``{tag: ""}`` of the merge fields to clear on the member at ``email`` that stays: those that still
        hold what the contact's sends wrote there (``SyncState.fields_written``), not what its owner typed since
        (review aud53 F3, aud54 F2: the names an owner typed on Mailchimp's form were wiped). A row sent before the
        digests were kept: every field of ``tags`` (the ones the shop fills)."""
        digests = getattr(self.row, "fields_written", None)
        if not digests_comparable(digests):
            return dict.fromkeys(tags, "")
        member = yield from read_member(self.configuration.list_id, email, "merge_fields")
        return dict.fromkeys(still_written(digests, (member or {}).get("merge_fields") or {}), "")

    def _clear_erased_data(self, email, cleared, interests=None):
        """Step: the erased contact's merge fields (``cleared``: {tag: ""}) and group interests off, on a member that
        stays; returns whether a member was there."""
        try:
            return (yield from write_kept_member(self.configuration.list_id, email, dict(
                {"merge_fields": cleared}, **({"interests": interests} if interests else {})))) is not None
        except MailchimpNotFound:
            return False

    def _erase_shared_own_member(self, log):
        """Step: the contact's own member (the one its sends wrote, by ``unique_email_id``) at an address another
        contact of the shop has. Where it is there, kept for them (:meth:`_keep_member`). Moved away in Mailchimp (its
        ``upemail`` late, or never reaching the erasure): erased where it is, by the rules of the contacts there
        (review aud37 F3, aud51 F4; aud52 F1: the consent of a contact at its new address counts). Another member at
        the address is kept for them as well (cleared of the erased person's data) unless its owner signed up there
        since (subscribed or pending, and not created by an attempt of the row: a signup on Mailchimp's own form
        after the contact's member was deleted, which aud53 F1 ended): a send of the contact whose answer was lost
        may have created it with the contact's data (aud53 F4)."""
        list_id, email = self.configuration.list_id, self.row.email
        here = yield from read_member(list_id, email, ARRIVAL_FIELDS + ",unique_email_id")
        if here is not None and here.get("unique_email_id") in ("", None, self.row.unique_email_id):
            yield from self._keep_member(log)
            return
        # The member at the address first: a refusal at the moved one must not keep the erased data here (aud54 F3).
        if here is not None and (here.get("status") not in CONSENTED or created_by_an_earlier_attempt(
                here, self.row, signup_second_shared(self.row, email))):
            yield from self._keep_member(log)
        elif here is not None:
            log("member.kept", "%s was not deleted nor written (erasure): the member there is %s, not one this "
                "contact's sends wrote (its owner signed up again since)" % (email, here.get("status", "")))
        moved_to = yield from member_address(list_id, self.row.unique_email_id)
        if moved_to and address_key(moved_to) != address_key(email):
            log("member.kept", "%s: the member this contact's sends wrote there moved in Mailchimp, to %s" % (
                email, moved_to))
            yield from self._delete_own_member(log, moved=True)

    def _delete_own_member(self, log, moved=False):
        """The member is read before its permanent delete (which cannot be undone): one subscribed or pending that the
        erased contact's consent never went to (its row did not last send it: a subscription someone made on
        Mailchimp's own form after the contact's send, or a row sent before ownership was recorded), or one that is
        no longer the member the contact's send wrote (re-created by its owner: another ``unique_email_id``), is its
        owner's and stays. ``moved``: the contact's own is known to be at another address
        (:meth:`_erase_shared_own_member`)."""
        list_id, email = self.configuration.list_id, self.row.email
        member = None if moved else (yield from read_member(list_id, email, "status,unique_email_id"))
        if member is None:
            # Moved in Mailchimp since the row last heard (an upemail delivered late, or never): found by its id
            # (a member the contact left, with that id, has its own rules: _delete_member_left).
            email = yield from member_address(list_id, self.row.unique_email_id)
            left = {address_key(entry.get("email", "")) for entry in getattr(self.row, "members_left", None) or []
                    if entry.get("unique_email_id") == self.row.unique_email_id}
            others = holders_of(self.configuration.shop_id, email).exclude(pk=self.row.object_id) if email else None
            if email is not None and address_key(email) in left:
                email = None
            elif others is not None and others.exists():
                # Another contact of the shop has that address: the member is theirs too, kept as at the row's.
                withdraw = bool(self.row.opt_in or lost_consent(self.row)) and not consenting_in_shop(
                    self.configuration.shop_id, others)
                yield from self._keep_member(log, email=email, withdraw=withdraw)
                return
            member = None if email is None else (yield from read_member(list_id, email, "status,unique_email_id"))
        if member is None:
            log("member.delete_permanent", "%s has no member in the audience: nothing to delete (erasure)" %
                self.row.email)
            return
        subscribed_by_others = member.get("status") in (members.SUBSCRIBED, members.PENDING) and not (
            self.row.opt_in or lost_consent(self.row) or made_by_a_consent_gone(self.row, email))
        replaced = created_again(self.row, member)
        if replaced:
            log("member.kept", "%s was not deleted (erasure): the member is %s, and not the one this contact's send "
                "wrote (created again since)" % (email, member.get("status", "")))
            return
        if subscribed_by_others:
            # The subscription is its owner's; the names and groups this contact's sends wrote there go (review
            # aud52 F2: they stayed for good).
            cleared = yield from self._erased_fields(email, self.mapped_tags)
            interests = dict.fromkeys(self.interest_ids, False) if self.interest_ids else None
            if cleared or interests:
                yield from self._clear_erased_data(email, cleared, interests)
            log("member.kept", "%s was not deleted (erasure): the member is %s, and this contact's consent never went "
                "to it (its owner subscribed it); the erased contact's data was cleared from it" % (
                    email, member.get("status", "")))
            return
        yield from erase_member(list_id, email, False, log)

    def _delete_member_at_noted_address(self, log):
        """A send whose answer never came (a first send, a move) may have written the member at the address it noted
        (:attr:`noted_address`): permanently deleted when it is the contact's (the one an attempt of the row created
        there, its signup time the row's first claim: :func:`created_by_an_earlier_attempt`; or the contact's member
        moved there, its ``unique_email_id``) and no other contact of the shop has the address (aud36 F5, aud44 F3:
        the erased person's names stayed in Mailchimp). One subscribed or pending that no consent of the row asked so
        is its owner's (a signup on Mailchimp's own form since) and stays."""
        list_id, email = self.configuration.list_id, self.noted_address
        member = yield from read_member(list_id, email, ARRIVAL_FIELDS + ",unique_email_id")
        if member is None:
            return
        moved_there = bool(self.row.unique_email_id) and member.get("unique_email_id") == self.row.unique_email_id
        if not (moved_there or created_by_an_earlier_attempt(member, self.row, signup_second_shared(self.row, email))):
            log("member.kept", "%s was not deleted (erasure): the member is not the one this contact's send wrote "
                "there" % email)
            return
        consented = bool(self.row.opt_in or getattr(self.row, "consent_unanswered", ""))
        others = holders_of(self.configuration.shop_id, email).exclude(pk=self.row.object_id)
        if others.exists():
            # Theirs too now: kept without the erased person's data, unsubscribed when none of them consents (as at
            # the row's own address, aud45 F4).
            yield from self._keep_member(log, email=email, withdraw=consented and not consenting_in_shop(
                self.configuration.shop_id, others))
            return
        if member.get("status") in CONSENTED and not consented:
            log("member.kept", "%s was not deleted (erasure): its owner subscribed it, no consent of this contact's "
                "went there" % email)
            return
        yield from erase_member(list_id, email, False, log)

    def _keep_member(self, log, email=None, withdraw=None):
        """The member another contact of the shop keeps: never deleted, but it keeps none of the erased person's data
        (the mapped merge fields are sent empty, then the address's other contacts are sent again in full, so that
        whoever writes the member under the consent rules writes theirs: :class:`MemberDataErased`); and when none
        of them consents, it is unsubscribed in the same write (:func:`unsubscribe_kept_member`). ``email``: where
        the member is, when not at the row's address (moved in Mailchimp), and ``withdraw`` decided for it."""
        carries = self.cleared if email is None else self.mapped_tags  # found by its id: the contact's own
        email = email or self.row.email
        withdraw = self.withdraw if withdraw is None else withdraw
        why = ("%s was not deleted (erasure): another contact of the shop has the address, and the member is theirs "
               "too" % email)
        cleared = (yield from self._erased_fields(email, carries)) if carries else {}
        # The erased contact's data was written there: its groups' interests go too (aud37 F4).
        interests = dict.fromkeys(self.interest_ids, False) if carries and self.interest_ids else None
        if withdraw:
            yield from unsubscribe_kept_member(
                self.configuration.list_id, email, self.row.object_id, self.row.consent_changed_at or timezone.now(),
                self.learnt, log, why, merge_fields=cleared, interests=interests)
            self.consent_ended = True
        elif carries:
            if not (cleared or interests):
                log("member.kept", "%s; none of the erased contact's data is on it any more" % why)
            elif (yield from self._clear_erased_data(email, cleared, interests)):
                log("member.kept", "%s; the erased contact's data was cleared from it (%s)" % (why, ", ".join(sorted(
                    cleared)) or "its groups"))
        else:
            yield from erase_member(self.configuration.list_id, email, True, log)
        # The others write the member again: what the address's contacts share (tags, groups, orders) counted the
        # erased contact too.
        self.learnt.append(MemberDataErased(email, self.row.object_id))


class MemberDataErased:
    """An erasure kept a member another contact of the shop has (clearing the erased contact's data from it: its
    mapped merge fields, or what the address's contacts share, its groups, orders and tags): the shop's other contacts
    with the address (by their address keys, and the rows that last sent it) are sent again in full (their
    fingerprints cleared), so that the member carries its remaining owners' data again, written under the usual
    rules (a contact whose write leaves a member's data alone leaves it empty)."""

    def __init__(self, email, contact_id):
        self.email = email
        self.contact_id = contact_id

    def remember(self, configuration):
        """Returns the ids of the rows it queued."""
        shop_id = configuration.shop_id
        holders = set(shop_contacts_with_keys(shop_id, address_keys([self.email])).values_list("pk", flat=True))
        ids = set(SyncState.objects.contacts().filter(shop_id=shop_id, erase=False).filter(
            Q(email__iexact=self.email) | Q(object_id__in=holders)).exclude(object_id=self.contact_id).values_list(
            "pk", flat=True))
        state.rewrite_rows(ids)
        return ids


# In a batch (sync.bulk) --------------------------------------------------------------------------------
# The same plans in three phases: the members of first sends at addresses nobody proved read, then the member
# PUTs (with or without the contact's data, by what the reads found), then (with the members' statuses read from
# their results) the customer PUTs and the GDPR permissions. A phase with nothing to send costs no batch.


def _build_reads(configuration, pairs, rows, sent):
    """Each row's member write, decided here from its plan (kept in ``sent`` for the members phase), and the reads
    of the members of first sends at addresses nobody proved (ContactPlan.first_unproven), whose write waits for
    what the read finds: written in full where Mailchimp holds none (the send creates the contact's own), without
    the contact's data where it holds one (another's). Of the batch's contacts with one address, only one can make
    the member its own: a first send sharing its address with another row of the batch (one that writes its own
    member, or an earlier first send of it) is not read, and writes as to another's member (Mailchimp runs a
    batch's operations in any order: two reads would both find none, and both rows would take the member)."""
    operations, pairs = [], list(pairs)
    # Addresses a row of this batch writes as its own member, or reads first to decide.
    claimed = {address_key(plan.email) for _row, plan in pairs if plan.owned is not None}
    for row, plan in pairs:
        facts = {"email": plan.email, "shop_email": plan.shop_email, "opt_in": plan.permission,
                 "sent_at": timezone.now().isoformat(),
                 "fingerprint": plan.fingerprint, "customer": plan.customer, "status_change": plan.status_change,
                 "refusal_key": plan.refusal_key, "decides_consent": plan.decides_consent(plan.status_change),
                 "tags_wanted": sorted(plan.tags_wanted), "tags_applied": sorted(plan.tags_applied),
                 "tags_found": sorted(plan.tags_found), "tags_backfill": sorted(plan.tags_backfill),
                 "consent_request": plan.request_done,
                 "consent_asked": plan.consent_request, "status_before": row.member_status,
                 "consent_changed_at": plan.consent_changed_at.isoformat() if plan.consent_changed_at else "",
                 "foreign_member": None if plan.ownership_unknown else plan.owned is False, "arriving": plan.arriving}
        if plan.owned is None and address_key(plan.email) in claimed:
            facts.update(foreign_member=True, tags_applied=[], tags_found=[], member_write=batches.encode(
                plan.member_operation(plan.status_change, held=True), "c:%d:member" % row.id))
        elif plan.owned is None:
            claimed.add(address_key(plan.email))
            plan.creates = True
            facts.update(read_first=True, stamp_shared=plan.stamp_shared, member_write=batches.encode(
                plan.member_operation(plan.status_change), "c:%d:member" % row.id), held_write=batches.encode(
                plan.member_operation(plan.status_change, held=True), "c:%d:member" % row.id),
                create_write=batches.encode(plan.member_operation(plan.status_change, create=True),
                                            "c:%d:member" % row.id))
            operations.append(batches.encode(Operation("GET", member_path(configuration.list_id, plan.email),
                                                       params={"fields": ARRIVAL_FIELDS}), "c:%d:read" % row.id))
        elif plan.member_unchanged:  # only the customer changed: Mailchimp's member is as the shop last sent it
            facts.update(member_skipped=True, member_status=row.member_status)
        else:
            facts["member_write"] = batches.encode(plan.member_operation(plan.status_change), "c:%d:member" % row.id)
        if (sent.get(str(row.id)) or {}).get("recovered"):
            facts["recovered"] = True  # a lost attempt's row, as the burst claimed it: its close keeps it so
        sent[str(row.id)] = facts
    return operations


def _read_reads(configuration, row, results, facts):
    """None to go on to the members phase, the row's member write decided (``facts``); else the Outcome."""
    if facts is None or not facts.get("read_first"):
        return None
    read = results.get("read")
    if read is None:
        return Outcome(Result.RETRY, "Mailchimp's batch results did not cover this contact")
    if operation_failed(read) and not batches.operation_not_found(read):
        return result_outcome(read, "read")
    if operation_failed(read):
        # Mailchimp holds none: the write only creates the contact's own (refused if another's is there by then).
        facts.update(foreign_member=False, member_write=facts["create_write"], created=True)
    elif created_by_an_earlier_attempt(batches.response_of(read), row, facts.get("stamp_shared", False)):
        facts["foreign_member"] = False  # the contact's own, created by an earlier attempt of its row
    else:
        # Another's (a guest buyer's, a subscriber of Mailchimp's own form, another contact's of the shop): the write
        # carries only what the consent rules say, and its tags are taken as the member's own.
        facts.update(foreign_member=True, member_write=facts["held_write"], tags_applied=[], tags_found=[])
    del facts["held_write"], facts["create_write"]
    return None


def _build_members(configuration, pairs, rows, sent):
    """The member writes the reads phase decided."""
    return [sent[str(row.id)]["member_write"] for row in rows if sent.get(str(row.id), {}).get("member_write")]


def _read_members(configuration, row, results, facts):
    """None to go on to the customer phase (``facts`` then hold the member's status), else the Outcome."""
    member = results.get("member")
    if facts is not None and facts.get("member_skipped"):
        return None
    if facts is None or member is None:
        return Outcome(Result.RETRY, "Mailchimp's batch results did not cover this contact")
    if operation_failed(member):
        if errors.member_exists(batches.error_of(member)):
            # The reads phase found no member, and one was created before this write (another send, the person on
            # Mailchimp's own form): the next attempt reads it, and leaves it alone.
            return Outcome(Result.RETRY, "Mailchimp holds a member of %s created since it was read: it is read again"
                           % facts["email"], waits=True)
        if errors.interest_missing(batches.error_of(member)):
            return interest_missing(configuration, batches.error_of(member).as_log_data())
        if errors.merge_fields_invalid(batches.error_of(member)):
            # A batch cannot read between its requests: the fields are read as the row closes (once for all the
            # rows refused alike), and the row is tried again (one by one, a refusal then reads them itself).
            return merge_fields_changed(configuration, batches.error_of(member).as_log_data(), AudienceFieldsLearnt(
                asked_at=parse_datetime((facts or {}).get("sent_at") or "")))
        outcome = result_outcome(member, "member")
        if outcome.result == Result.FAILED:
            outcome.refused_fingerprint = facts.get("refusal_key", "")
        return outcome
    answer = batches.response_of(member)
    facts["member_status"] = answer.get("status", "")
    if existed_without_consent(facts.get("consent_asked", facts.get("consent_request")), facts["opt_in"],
                               facts.get("status_change"), facts["member_status"]):
        # The member existed without the consent just given: the row learns its status, and its next plan sends
        # the consent as a change, one by one (which can ask for a confirmation where Mailchimp wants one).
        outcome = Outcome(Result.RETRY, "%s was in the audience already: the consent given is sent as a change"
                          % facts["email"], waits=True)
        # Whose the member is was decided by this send (its read): the one-by-one send keeps off a member not the
        # contact's, and records the subscription the change makes as its consent's (``consent_made``).
        outcome.facts = _written_in_batch(row, facts, False)
        return outcome
    facts["unique_email_id"] = answer.get("unique_email_id", "")
    facts["member"] = {"marketing_permissions": answer.get("marketing_permissions") or []}
    carried = tags.member_tags(answer)
    if facts.get("foreign_member"):
        carried = facts.get("tags_wanted") or []  # not the contact's member: its tags are its own (ContactPlan.owned)
    if carried is not None:
        facts["tags_carried"] = sorted(carried)
    return None


#: The result steps of a row's tags requests in a batch, in their order (:meth:`.tags.TagChange.operations`: the
#: back-filled tags', then the others').
TAG_STEPS = ("tags", "more_tags")


def _build_customers(configuration, pairs, rows, sent):
    """Each customer PUT, opted in only when its member is subscribed, and the GDPR marketing permissions
    of members whose consent the shop decided."""
    operations = []
    for row in rows:
        facts = sent.get(str(row.id))
        if facts is None:
            continue
        if facts.get("member_status") == members.ARCHIVED:
            facts["customer_skipped"] = True  # left archived: a customer would bring the member back
            continue
        if customer_unchanged(facts["fingerprint"], facts.get("member_status"), row):
            facts["customer_skipped"] = True  # only the member changed (a group, a name kept)
        else:
            operations.append(batches.encode(customer_operation(
                configuration, facts["customer"], facts.get("member_status"), not facts.get("member_skipped")),
                "c:%d:customer" % row.id))
        permissions = facts["decides_consent"] and permissions_operation(
            configuration.list_id, facts["email"], facts.get("member"), facts["opt_in"])
        if permissions:
            operations.append(batches.encode(permissions, "c:%d:permissions" % row.id))
        tag_change = _batch_tag_change(facts)
        for index, tags_operation in enumerate(tag_change.operations(
                configuration.list_id, facts["email"], configuration.store_syncing) if tag_change else ()):
            operations.append(batches.encode(tags_operation, "c:%d:%s" % (row.id, TAG_STEPS[index])))
    return operations


def _read_customers(configuration, row, results, facts):
    customer = results.get("customer")
    if facts is None or (customer is None and not facts.get("customer_skipped")):
        return Outcome(Result.RETRY, "Mailchimp's batch results did not cover this contact")
    for step in ("customer", "permissions") + TAG_STEPS:
        if step in results and operation_failed(results[step]):
            outcome = result_outcome(results[step], step)
            if not facts.get("member_skipped"):
                outcome.facts = _written_in_batch(row, facts, facts["decides_consent"],
                                                  facts.get("consent_request", ""))
                _record_consent_made(outcome.facts, facts)
                outcome.learnt.extend(_batch_learnt(row, facts))  # the member write taught it, whatever follows
            if step == "customer" and errors.in_compliance_state(batches.error_of(results[step])):
                # The member unsubscribed (or bounced) after its phase: sent again one by one, which reads
                # the member's status and sends the customer without the opt-in.
                outcome.result = Result.RETRY
            return outcome
    # When the batch was built, not when its results were read: an unsubscribe made in between is newer.
    outcome = sent_outcome(facts["email"], facts["shop_email"], facts["opt_in"], facts["fingerprint"],
                           facts["member_status"], facts.get("status_change"), parse_datetime(facts["sent_at"]),
                           facts.get("unique_email_id"), tag_change=_batch_tag_change(facts),
                           consent_request=facts.get("consent_request", ""),
                           link_asked=not facts.get("member_skipped") and link_mailed(
                               facts["member_status"], facts.get("status_change"), facts.get("status_before", "")),
                           learnt=_batch_learnt(row, facts), contact_id=row.object_id, seen_at=row.last_synced_at,
                           foreign_member=facts.get("foreign_member"), compared_at=row.claimed_at)
    _record_consent_made(outcome.facts, facts)
    if not facts.get("member_skipped"):
        outcome.facts.update(_batch_fields_written(row, facts))
    return outcome


def _record_consent_made(written, facts):
    """Whether the row's consent made the member's subscription (:func:`consent_made`), from its batched member
    write: recorded when the row closes, also when a later step failed (its retry finds the member subscribed and
    cannot tell)."""
    made = consent_made(facts["opt_in"], facts.get("arriving", False), facts.get("status_change"),
                        facts.get("status_before", ""), facts["member_status"], created=facts.get("created", False))
    if made is not None:
        written["consent_made"] = made


def _written_in_batch(row, facts, decided, consent_request=""):
    """What Mailchimp holds once a batch wrote a row's member, when a later step fails or the row is sent again
    (:func:`written_facts`), with whose the member is as its reads phase decided: the row has arrived at the
    address, and its next send must not take it for a row sent before ownership was recorded."""
    written = written_facts(facts["email"], facts["member_status"], facts["opt_in"], decided, consent_request,
                            written_from=row.claimed_at)
    if facts.get("foreign_member") is not None:
        written["foreign_member"] = facts["foreign_member"]
    written.update(_batch_fields_written(row, facts))
    return written


def _batch_fields_written(row, facts):
    """``{"fields_written": ...}`` when the row's member write in a batch carried the contact's merge fields, else
    ``{}`` (:func:`fields_written`)."""
    merge_fields = json.loads((facts.get("member_write") or {}).get("body") or "{}").get("merge_fields")
    return {"fields_written": fields_written(row.fields_written, merge_fields)} if merge_fields else {}


def _batch_learnt(row, facts):
    """What a row's member write in a batch taught the shop (:func:`address_unsubscribed`)."""
    decided_at = parse_datetime(facts.get("consent_changed_at") or "") or parse_datetime(facts["sent_at"])
    return address_unsubscribed(facts["email"], facts.get("status_change"), facts.get("member_status"),
                                facts["opt_in"], decided_at, row.object_id)


def _batch_tag_change(facts):
    """The :class:`~.tags.TagChange` of a row in a batch, from what its members phase read; None when the
    member has no tags to keep (not in the audience)."""
    if facts.get("member_status") in ("", None, members.ERASED, members.ARCHIVED):
        return None
    carried = facts.get("tags_carried")
    if facts.get("foreign_member"):
        carried = facts.get("tags_wanted") or ()  # not the contact's member: no tag added or removed
    return tags.TagChange(set(facts.get("tags_wanted") or ()), set(facts.get("tags_applied") or ()),
                          set(facts.get("tags_found") or ()), None if carried is None else set(carried),
                          set(facts.get("tags_backfill") or ()))


BATCH_PHASES = (BatchPhase(_build_reads, _read_reads, plans=True, reads=True),
                 BatchPhase(_build_members, _read_members), BatchPhase(_build_customers, _read_customers))


def erase_members_in(configuration, list_id, row, log):
    """Steps: the erasure's rules for the members of the erased ``row`` (:meth:`ErasePlan.erase_members`) in the
    audience ``list_id``: one the shop leaves, where the erasure was recorded (Initialize carries it out there). What
    the address's other contacts would learn is of that audience: forgotten with it."""
    leaving = copy.copy(configuration)
    leaving.list_id = list_id
    # Not a claim of the row: every attempt it made is an earlier one (created_by_an_earlier_attempt), its last
    # claim's too.
    unclaimed = copy.copy(row)
    unclaimed.claimed_at = None
    # A row a lost attempt still holds is recovered, as its next claim would find it: the consent it may have
    # carried counts (review aud48 F3).
    unclaimed.recovered = bool(row.claimed_by)
    yield from plan(leaving, unclaimed, load(leaving, [unclaimed])).erase_members(log)


def erasures_not_sent(shop_id):
    """``{contact id: its row}`` of the erasures recorded but not yet sent to Mailchimp's audience, of rows that may
    have a member there: they name an address, a send of theirs whose answer never came noted one, or they left
    members under earlier addresses."""
    return {row.object_id: row for row in state.erasures_waiting(shop_id, KIND)
            if row.email or row.move_sent_to or row.members_left}


def forget_audience(shop_id):
    """Initialize created the shop's store in another audience than the one its rows describe (chosen while
    disconnected, the old store deleted): what the shop knew of the old audience's members is no fact of the
    new one. Every contact is queued as never sent: no address, member status, consent last sent, member id,
    tags or Mailchimp event of the old audience, so a consenting contact is subscribed in the new audience as
    by a first send, and a first send never changes a member that exists there.

    Consent withdrawn stays withdrawn: a shopper's consent request stays, and a withdrawal not yet sent (the
    consent last sent was given, and the contact no longer consents in the shop) becomes an unsubscribe
    request, which reaches a member the new audience has of the address (a marketer's import of the old
    audience) as it would have reached the old one (see :func:`shoop_mailchimp.consent.requested_change`).
    Also where a confirmation was asked since (a newsletter block's press: anyone may type the address): it
    gave no consent until its owner confirms, and the unsubscribe request takes its place (pressed again, it
    asks again).
    An erasure not yet sent was of the old audience's member (Initialize carries it out there, or drops it
    when that audience is gone): its address is forgotten too, so that no member of the new audience is
    deleted; the customer is still deleted from the store. Returns how many rows were queued (sent once the
    shop is reconnected). Safe to run again (an Initialize that stopped before saving runs it again)."""
    consent_sent = dict(SyncState.objects.filter(shop_id=shop_id, kind=KIND, erase=False, opt_in=True).values_list(
        "object_id", "id"))
    contact_ids = sorted(consent_sent)
    withdrawn = []
    for start in range(0, len(contact_ids), state.IDS_PER_STATEMENT):
        chunk = contact_ids[start:start + state.IDS_PER_STATEMENT]
        consenting = set(Contact.objects.filter(pk__in=chunk, marketing_permission=True).values_list(
            "pk", flat=True)) - shop_consent.withheld(shop_id, chunk)
        withdrawn += [consent_sent[pk] for pk in chunk if pk not in consenting]
    return state.forget_audience(shop_id, KIND, withdrawn)
