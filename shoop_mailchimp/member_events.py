"""What Mailchimp tells the shop about a member, applied to the shop: one code path for the webhook and
the reconciliation (see :mod:`shoop_mailchimp.webhooks` for what each event does).

An event is a dict: ``type``, ``fired_at`` (aware datetime), ``data`` (``email``, ``list_id``,
``action``, ``reason``, ``old_email``, ``new_email``) and ``merges``. Nothing here gives consent, and
nothing here talks to Mailchimp: a row queued again (an e-mail change) is sent by the drainer.
"""
from dataclasses import dataclass, field
from datetime import timedelta
from typing import List

from django.db.models import Q
from shuup.front.models import StoredBasket

from shoop_mailchimp import shop_consent
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.mailchimp.members import ARCHIVED, CLEANED, SUBSCRIBED, UNSUBSCRIBED, address_key
from shoop_mailchimp.models import ConsentRequest, LogKind, SyncKind, SyncState
from shoop_mailchimp.shops import shop_contacts, shop_contacts_with_address, shop_ids_by_contact
from shoop_mailchimp.sync import state

#: The longest member id a row keeps (Mailchimp's have ten characters): a longer ``data[id]`` names no member.
MAX_MEMBER_ID = SyncState._meta.get_field("unique_email_id").max_length


@dataclass
class EventResult:
    """What one event did to the shop: the log entry's action, message and kind, and the contacts."""

    action: str
    message: str
    kind: str = LogKind.INFO
    contact_ids: List[int] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    #: The shops with rows the event queued (a withdrawal counts in every shop): the caller asks for a delivery.
    due_shop_ids: List[int] = field(default_factory=list)


def handle_event(configuration, event, source="webhook", states=None, told_ids=None):
    """Apply one event and write one log entry for it; returns its :class:`EventResult`.

    A reconciliation (``source="reconcile"``) applies what it read from Mailchimp through here too, so
    both follow the same rules; its log entries are named ``reconcile.*``. ``states``: the rows concerned
    when the caller knows them (a reconciliation finds a member's row by Mailchimp's id, which survives
    an e-mail change); otherwise this shop's rows for the event's e-mail. ``told_ids`` (an unsubscribe the
    shop's own send learnt): the contacts it concerns, the caller having weighed each one's newer facts.
    """
    data = event["data"]
    extra = {"type": event["type"], "fired_at": event["fired_at"].isoformat(), "list_id": data.get("list_id", "")}
    if data.get("list_id") != configuration.list_id:
        result = EventResult("webhook.ignored", "Ignored a %s event for audience %r: this shop uses %r."
                             % (event["type"], data.get("list_id", ""), configuration.list_id))
    else:
        handler = HANDLERS.get(event["type"], handle_log_only)
        event = dict(event, source=source)
        result = handler(configuration, event, states) if told_ids is None else handler(
            configuration, event, states, told_ids=told_ids)
    extra.update(result.details)
    if source != "webhook":
        result.action = source + result.action[len("webhook"):]
        extra["source"] = source
    log_event(configuration.shop_id, result.action, result.message, kind=result.kind, extra=extra,
              contact_id=result.contact_ids[0] if len(result.contact_ids) == 1 else None)
    return result


def matching_states(shop_id, email):
    """This shop's contact sync states for the e-mail: by the e-mail last sent, else by the contacts' e-mail (any
    spelling of the mailbox: their address keys)."""
    states = SyncState.objects.contacts().filter(shop_id=shop_id, erase=False)
    by_sent_email = list(states.filter(email__iexact=email))
    if by_sent_email:
        return by_sent_email
    contact_ids = shop_contacts_with_address(shop_id, email).values_list("pk", flat=True)
    return list(states.filter(object_id__in=list(contact_ids)))


def _states(configuration, email, states):
    """The rows an event concerns: those given (a reconciliation knows the member's row by its id), else
    this shop's rows for the e-mail."""
    return list(states) if states is not None else matching_states(configuration.shop_id, email)


def _applicable(configuration, event, email, states):
    """``(rows, None)`` when the event applies to them, else ``(rows, the EventResult saying why not)``: no
    contact of this shop has the e-mail, or the shop holds a newer fact."""
    states = _states(configuration, email, states)
    if not states:
        return states, _no_contact(event)
    if not _current(event, states):
        return states, _stale(event, states)
    return states, None


def _no_contact(event):
    email = event["data"].get("email") or event["data"].get("old_email", "")
    return EventResult("webhook.%s" % event["type"], "%s event for %s: no contact of this shop has this e-mail"
                       % (event["type"], email), details={"email": email, "matched": 0})


def _current(event, states):
    """Whether no state holds a fact newer than the event. Mailchimp's ``fired_at`` has whole seconds:
    a fact from the same second counts as older, so the event applies."""
    fired_at = event["fired_at"]
    return not any(moment and moment.replace(microsecond=0) > fired_at for row in states for moment in (
        row.mailchimp_fact_at, row.consent_sent_at))


def _stale(event, states):
    contact_ids = sorted(row.object_id for row in states)
    return EventResult(
        "webhook.stale", "Ignored a %s event fired at %s: the shop already holds a newer state for this contact"
        % (event["type"], event["fired_at"].isoformat()), kind=LogKind.WARNING, contact_ids=contact_ids,
        details={"matched": len(contact_ids)})


def handle_unsubscribe(configuration, event, states=None, told_ids=None):
    """``told_ids``: the contacts an unsubscribe the shop's own send learnt concerns (see
    :class:`~shoop_mailchimp.sync.kinds.contact.AddressUnsubscribed`), each one's newer facts weighed by the caller;
    else the rows' and the shop's contacts with the address, unless any holds a newer fact."""
    email = event["data"]["email"]
    if told_ids is None and event["data"].get("action") == "delete":
        # A marketer's archive ends no consent (review aud56 F4), on a waiting erasure's row as on the others.
        _erasures_learn(configuration, event, email, member_status=ARCHIVED)
    elif told_ids is None:
        # The owner's unsubscribe ends the consent the row last sent, and any an attempt begun before it carried
        # (aud56 F2: a lost attempt's consent still counted, and the owner's next signup was deleted); and that of a
        # member a row remembers as left there.
        _erasures_learn(configuration, event, email, lost_facts={"consent_unanswered": ""}, opt_in=False,
                        consent_made=False)
        state.members_left_unsubscribed(configuration.shop_id, SyncKind.CONTACT, email)
    states = _states(configuration, email, states)
    if told_ids is not None:
        contact_ids = sorted(told_ids)
    else:
        contact_ids = sorted({row.object_id for row in states} | set(
            shop_contacts_with_address(configuration.shop_id, email).values_list("pk", flat=True)))
    if not contact_ids:
        return _no_contact(event)
    if told_ids is None and not _current(event, states):
        return _stale(event, states)
    if event["data"].get("action") == "delete":
        state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], member_status=ARCHIVED)
        _drop_confirmation(states, event["fired_at"])
        return EventResult(
            "webhook.archived", "%s was archived or deleted by an admin in Mailchimp; the shop's marketing "
            "permission is unchanged" % email, LogKind.WARNING, contact_ids, {"email": email, "action": "delete"})
    # A contact whose consent the shop decided after the event fired (a consent given while a delayed delivery was
    # retried, not sent yet) keeps it: its rows learn the member's status and send the consent again, as a change
    # (the member unsubscribed: Mailchimp asks the address to confirm). The caller weighed ``told_ids`` already.
    kept_ids = set() if told_ids is not None else decided_since(contact_ids, event["fired_at"])
    kept = [row for row in states if row.object_id in kept_ids]
    told = [row for row in states if row.object_id not in kept_ids]
    # A queryset update: no post_save, so nothing is recorded and nothing is sent back to this audience. The
    # withdrawal counts in every shop: the others' audiences are sent it, and every shop's carts go.
    consenting = shop_contacts(configuration.shop_id).filter(pk__in=contact_ids, marketing_permission=True).exclude(
        pk__in=kept_ids)
    withdrawn_ids = list(consenting.values_list("pk", flat=True))
    withdrawn = consenting.filter(pk__in=withdrawn_ids).update(marketing_permission=False)
    due_shop_ids = record_withdrawal(configuration.shop_id, withdrawn_ids)
    state.apply_mailchimp_fact([row.pk for row in told], event["fired_at"], opt_in=False,
                               member_status=UNSUBSCRIBED)
    _drop_confirmation(told, event["fired_at"])
    if kept and state.unsubscribed_under(configuration.shop_id, [row.pk for row in kept]):
        due_shop_ids.add(configuration.shop_id)
    reason = event["data"].get("reason", "")
    message = "%s unsubscribed in Mailchimp%s; marketing permission withdrawn for %d of %d contacts" % (
        email, " (%s)" % reason if reason else "", withdrawn, len(contact_ids))
    if kept_ids:
        message += ("; %d contacts whose consent the shop decided after the event was fired keep it (sent again: "
                    "the address is asked to confirm)" % len(kept_ids))
    return EventResult(
        "webhook.unsubscribe", message, LogKind.INFO, contact_ids,
        {"email": email, "matched": len(contact_ids), "changed": withdrawn, "reason": reason,
         "kept": sorted(kept_ids)}, due_shop_ids=sorted(due_shop_ids))


def decided_since(contact_ids, fired_at):
    """The contacts whose consent the shop decided (gave, withdrew or asked for: ``consent_changed_at``, in any
    shop, the consent being the contact's) after an event fired at ``fired_at``. Mailchimp's ``fired_at`` has whole
    seconds: a decision from the same second counts as older."""
    changed = SyncState.objects.contacts().filter(object_id__in=list(contact_ids), erase=False,
                                                  consent_changed_at__isnull=False)
    return {object_id for object_id, moment in changed.values_list("object_id", "consent_changed_at")
            if moment.replace(microsecond=0) > fired_at}


def handle_subscribe(configuration, event, states=None):
    email = event["data"]["email"]
    # After an attempt whose end the row never learnt (an erasure's unsubscribe whose answer was lost, aud56 F3), a
    # subscription is its owner's: the attempt's withdrawal, or the consent it carried, is not sent again over it. Not
    # a reconciliation's: the status it read may be that attempt's own write (aud57 F2), where Mailchimp's webhook,
    # which the shop's own writes never fire, is its owner's or a marketer's act.
    lost_facts = {"opt_in": None, "consent_unanswered": ""} if event.get("source", "webhook") == "webhook" else None
    _erasures_learn(configuration, event, email, lost_facts=lost_facts, member_status=SUBSCRIBED, consent_made=False)
    states, refusal = _applicable(configuration, event, email, states)
    if refusal:
        return refusal
    confirmed = [row.object_id for row in states if row.member_status == "pending"]
    # A subscription asked for where the address proved nothing (ConsentRequest.CONFIRM): its owner has now
    # confirmed, and that is the consent the shop records. A queryset update: nothing is sent back.
    # The consent is this shop's (its audience mailed the link): it counts in the other shops only where it did.
    # Not a confirmation fired before it was asked for (a late delivery of an older subscribe: it cannot answer it).
    # Mailchimp's fired_at has whole seconds: one of the request's second counts.
    asked = [row for row in states if row.consent_request == ConsentRequest.CONFIRM and not (
        row.consent_requested_at and event["fired_at"] < row.consent_requested_at.replace(microsecond=0))]
    asked_contacts = shop_contacts(configuration.shop_id).filter(pk__in=[row.object_id for row in asked])
    fresh = set(asked_contacts.filter(marketing_permission=False).values_list("pk", flat=True))
    given = asked_contacts.filter(pk__in=fresh, marketing_permission=False).update(marketing_permission=True)
    for contact_id in asked_contacts.values_list("pk", flat=True):
        shop_consent.given_in_shop(configuration.shop_id, contact_id, fresh=contact_id in fresh)
    state.apply_mailchimp_fact([row.pk for row in asked], event["fired_at"], opt_in=True, consent_request="")
    # Subscribed by the address's owner (a confirmation link, Mailchimp's own form) or a marketer: no longer a
    # subscription a contact's consent alone made (``SyncState.consent_made``), whose withdrawal would end it.
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], member_status=SUBSCRIBED,
                               consent_made=False)
    created_again = learn_member(states, event)
    contact_ids = sorted(row.object_id for row in states)
    if asked:
        message = ("%s confirmed the subscription asked for where the address proved nothing: marketing "
                   "permission given for %d of %d contacts" % (email, given, len(contact_ids)))
    elif confirmed:
        message = "%s confirmed the subscription the shop asked for" % email
    else:
        message = ("%s was subscribed in Mailchimp; the shop's marketing permission is unchanged (consent is "
                   "given in the shop)" % email)
    if created_again:
        message += ("; the member is not the one the shop's sends wrote (created again in Mailchimp since): the "
                    "sends of %d contacts leave its names, merge fields and tags as they are" % len(created_again))
    return EventResult("webhook.subscribe", message, LogKind.INFO, contact_ids,
                       {"email": email, "matched": len(contact_ids), "confirmed": len(confirmed),
                        "created_again": created_again})


def _erasures_learn(configuration, event, address, lost_facts=None, same_member=False, **facts):
    """An erasure of ``address`` not yet done (its contact deleted: no row :func:`matching_states` finds) learns what
    the event tells, whether or not a contact of the shop still has the address: a ``subscribe`` makes the
    subscription its owner's, not one the erased contact's consent made, for its erasure to end or for another's to
    take for not its owner's (review aud50 F3, aud51 F1); an ``unsubscribe`` ends the consent it last sent, so that a
    signup its owner makes since is not taken for it (aud55 F1, F2); an ``upemail`` moves it with its member. Not
    from an event fired before the consent the row last sent, or before a fact it holds. ``lost_facts`` too where an
    attempt whose end the row never learnt (its token kept) began before the event. ``same_member``: only the rows
    of the member the event names (an ``upemail`` moves its own member, not another's erasure at the address it
    left: review aud58 F2).

    The rows of the address, and those whose send whose answer was lost noted it (``move_sent_to``) when the event
    names their member (``data[id]``, its ``unique_email_id``): their move landed, and they name the address now
    (aud56 F1)."""
    fired_at = event["fired_at"]
    # Mailchimp's fired_at has whole seconds: one of the same second counts (taking the subscription for its
    # owner's keeps it).
    within = fired_at + timedelta(seconds=1)
    member_id = event["data"].get("id") or event["data"].get("new_id") or ""
    waiting = state.erasures_waiting(configuration.shop_id, SyncKind.CONTACT).filter(
        Q(consent_sent_at__isnull=True) | Q(consent_sent_at__lt=within)).filter(
        Q(mailchimp_fact_at__isnull=True) | Q(mailchimp_fact_at__lt=within))
    here = waiting.filter(email__iexact=address)
    if same_member:
        here = here.filter(unique_email_id=member_id) if member_id else here.none()
    noted = waiting.filter(move_sent_to__iexact=address, unique_email_id=member_id).exclude(
        email__iexact=address) if member_id and len(member_id) <= MAX_MEMBER_ID else waiting.none()
    here_ids, noted_ids = list(here.values_list("pk", flat=True)), list(noted.values_list("pk", flat=True))
    if lost_facts:
        lost = waiting.filter(pk__in=here_ids + noted_ids).exclude(claimed_by="").filter(claimed_at__lt=within)
        state.apply_mailchimp_fact(list(lost.values_list("pk", flat=True)), fired_at, waiting_erasures=True,
                                   **lost_facts)
    state.apply_mailchimp_fact(noted_ids, fired_at, waiting_erasures=True,
                               **dict({"email": address, "move_sent_to": ""}, **facts))
    state.apply_mailchimp_fact(here_ids, fired_at, waiting_erasures=True, **facts)


def learn_member(states, event):
    """An event names its member (``data[id]``: its ``unique_email_id``). A row of its address whose sends wrote
    another member there as the contact's own learns that this one is not the contact's (``foreign_member``): the
    contact's own was deleted in Mailchimp, and the address's owner made this one since (a signup on Mailchimp's own
    form), whose names, merge fields and tags the contact's later sends leave alone, and which a change of the
    contact's address leaves where it is. A row that recorded no id (sent before ids were kept) learns this one's,
    as a reconciliation teaches it: which member it wrote, it cannot tell. Returns the ids of the contacts whose
    rows learnt the member not theirs."""
    member_id = event["data"].get("id", "")
    if not member_id or len(member_id) > MAX_MEMBER_ID:
        return []
    key = address_key(event["data"]["email"])
    here = [row for row in states if row.email and address_key(row.email) == key]
    others = [row for row in here if row.unique_email_id and row.unique_email_id != member_id
              and not row.foreign_member]
    if others:
        state.apply_mailchimp_fact([row.pk for row in others], event["fired_at"], foreign_member=True)
    state.remember_member_ids({row.pk: member_id for row in here if not row.unique_email_id})
    return sorted(row.object_id for row in others)


def _drop_confirmation(states, fired_at):
    """An address unsubscribed or cleaned is not asked to confirm again by later sends."""
    asked = [row.pk for row in states if row.consent_request == ConsentRequest.CONFIRM]
    if asked:
        state.apply_mailchimp_fact(asked, fired_at, consent_request="")


def handle_cleaned(configuration, event, states=None):
    email = event["data"]["email"]
    states, refusal = _applicable(configuration, event, email, states)
    if refusal:
        return refusal
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], member_status=CLEANED)
    _drop_confirmation(states, event["fired_at"])
    reason = event["data"].get("reason", "")
    contact_ids = sorted(row.object_id for row in states)
    return EventResult("webhook.cleaned", "Mailchimp cleaned %s (%s): marketing e-mails to it stopped"
                       % (email, reason or "bounced"), LogKind.WARNING, contact_ids,
                       {"email": email, "matched": len(contact_ids), "reason": reason})


def handle_upemail(configuration, event, states=None):
    """The subscriber changed their e-mail in Mailchimp: later syncs address the member by the new one.

    The shop contact's e-mail is left alone on purpose: it is the person's login and identity in
    the shop, and rewriting it from outside would lock people out or collide with another account
    using that address. The admin log shows the change so staff can update the contact. A send under
    way when the event arrives does not undo it, and the contact is sent again to the new address.
    """
    old_email, new_email = event["data"]["old_email"], event["data"]["new_email"]
    # A member a contact left at the old address (its erasure deletes it) is at the new one now, and so is the
    # member of a waiting erasure: what its owner does there next reaches it (review aud56 F1).
    state.follow_members_left(configuration.shop_id, SyncKind.CONTACT, old_email, new_email)
    _erasures_learn(configuration, event, old_email, same_member=True, email=new_email)
    states, refusal = _applicable(configuration, event, old_email, states)
    if refusal:
        return refusal
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], resend=True, email=new_email)
    contact_ids = sorted(row.object_id for row in states)
    return EventResult(
        "webhook.upemail", "E-mail changed in Mailchimp: %s → %s (the shop contact's e-mail is unchanged)"
        % (old_email, new_email), LogKind.INFO, contact_ids,
        {"old_email": old_email, "new_email": new_email, "matched": len(contact_ids)})


def handle_unarchive(configuration, event, states=None):
    """A marketer unarchived the member (reconciliation only: Mailchimp fires no webhook for it; ``data[status]``
    is its status now). The shop sent the archived member nothing: its rows are sent again in full (a member
    write without a status, which changes no consent)."""
    email, status = event["data"]["email"], event["data"]["status"]
    states, refusal = _applicable(configuration, event, email, states)
    if refusal:
        return refusal
    archived = [row for row in states if row.member_status == ARCHIVED]
    state.apply_mailchimp_fact([row.pk for row in archived], event["fired_at"], resend=True, member_status=status,
                               fingerprint=state.cleared_fingerprint())
    contact_ids = sorted(row.object_id for row in archived)
    return EventResult("webhook.unarchived", "%s was unarchived in Mailchimp (now %s): the shop sends it its "
                       "changes again" % (email, status), LogKind.INFO, contact_ids,
                       {"email": email, "status": status, "matched": len(contact_ids)})


def handle_profile(configuration, event, states=None):
    email = event["data"]["email"]
    contact_ids = sorted(row.object_id for row in _states(configuration, email, states))
    return EventResult("webhook.profile", "%s updated their profile in Mailchimp" % email, LogKind.INFO,
                       contact_ids, {"email": email, "merges": event["merges"]})


def handle_log_only(configuration, event, states=None):
    return EventResult("webhook.%s" % event["type"], "Mailchimp sent a %s event" % event["type"],
                       details={"data": event["data"]})


HANDLERS = {
    "unsubscribe": handle_unsubscribe,
    "subscribe": handle_subscribe,
    "cleaned": handle_cleaned,
    "upemail": handle_upemail,
    "profile": handle_profile,
    "unarchive": handle_unarchive,
}


def record_carts_of(shop_id, contact_ids, worker=False):
    """Queue the carts Mailchimp has of these shoppers' open baskets (their consent went: with the shop sending
    only people who consented, the plan deletes them; otherwise they close unchanged). ``worker``: outside the
    shop's transactions (``state.requeue``). Returns whether any row is due."""
    contact_ids = list(contact_ids)
    if not contact_ids:
        return False
    basket_ids = set(StoredBasket.objects.filter(shop_id=shop_id, deleted=False).filter(
        Q(customer_id__in=contact_ids) | Q(orderer_id__in=contact_ids)).values_list("pk", flat=True))
    queue = state.requeue if worker else state.record
    return queue(shop_id, SyncKind.CART, basket_ids, only_known=True)


def record_withdrawal(heard_in, contact_ids, worker=False):
    """Consent these contacts gave is withdrawn by an unsubscribe heard from shop ``heard_in``'s audience (its
    webhook, its reconciliation, the answer to one of its sends), whose rows hold it already. A withdrawal counts
    in every shop (see :mod:`shoop_mailchimp.shop_consent`): every other recording shop a contact belongs to
    sends its contact again (its member is unsubscribed where that shop's consent subscribed it), and every such
    shop, ``heard_in`` too, its carts (see :func:`record_carts_of`). The one path for all three; ``worker``: outside
    the shop's transactions, as ``state.requeue``. Returns the ids of the shops with a row due."""
    contact_ids = set(contact_ids)
    due = set()
    if record_carts_of(heard_in, contact_ids, worker=worker):
        due.add(heard_in)
    queue = state.requeue if worker else state.record
    for shop_id, ids in shop_ids_by_contact(contact_ids).items():
        if shop_id == heard_in:
            continue
        contacts_due = queue(shop_id, SyncKind.CONTACT, ids, only_known=True)
        if record_carts_of(shop_id, ids, worker=worker) or contacts_due:
            due.add(shop_id)
    return due
