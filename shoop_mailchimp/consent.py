"""Consent rules: who may be subscribed, and when a member's status may change.

- A contact's ``marketing_permission`` is the shop's record of consent; given in one shop's storefront (or
  confirmed from one shop's audience) it counts in that shop only (:mod:`shoop_mailchimp.shop_consent`).
- A new member gets ``subscribed`` (``pending`` with double opt-in) only with consent, otherwise
  ``transactional`` (Mailchimp's status for people who only buy).
- An existing member's status is changed only when consent changed *in the shop* since it was last
  sent: on → subscribed (pending with double opt-in), off → unsubscribed. A first sync never
  changes an existing member, and a member who unsubscribed or was cleaned in Mailchimp is never
  re-subscribed by a resync: only a new consent given in the shop does that.
- A consent request (:class:`~shoop_mailchimp.models.ConsentRequest`) says more than the consent: a
  consent just given (sent as a change even to a member the shop never told), a confirmation the
  address's owner must give first (``pending``; the shop records the consent when they confirm), or an
  unsubscribe the shopper asked for (sent even to a member the shop never told: see :func:`requested_change`;
  a withdrawal not yet sent when the shop moved to another audience becomes one, see
  :func:`shoop_mailchimp.sync.kinds.contact.forget_audience`).
- A cart (abandoned-cart e-mails) is sent for a shopper who consented, or, when the shop sends people who
  did not (``send_unconsented``), for any known shopper; it never subscribes anyone.
"""
from shoop_mailchimp.mailchimp import members
from shoop_mailchimp.models import ConsentRequest


def status_if_new(permission, double_opt_in):
    if not permission:
        return members.TRANSACTIONAL
    return members.PENDING if double_opt_in else members.SUBSCRIBED


def confirmed_already(member_status):
    """The one rule of "a consent given needs no confirmation": Mailchimp mails the member already (subscribed on
    any form; that form asked its own confirmation). The newsletter block asks no confirmation of them, a
    registration's consent leaves them subscribed (see ``existed_without_consent`` in the contact kind), and a
    consent given on the account page, under double opt-in, does not turn them back to pending."""
    return member_status == members.SUBSCRIBED


def status_change(permission, consent_last_sent, double_opt_in, member_status=""):
    """The status to force on an existing member, or None to leave Mailchimp's status alone. A consent given for a
    member the shop knows subscribed is sent as ``subscribed`` even under double opt-in (:func:`confirmed_already`):
    where the shop's view is stale and the member unsubscribed meanwhile, Mailchimp refuses it and pending is
    asked (see ``ContactPlan._member_send``)."""
    if consent_last_sent is None or bool(permission) == bool(consent_last_sent):
        return None
    if permission:
        return members.PENDING if double_opt_in and not confirmed_already(member_status) else members.SUBSCRIBED
    return members.UNSUBSCRIBED


#: Statuses of a member who left the audience's mailings (unsubscribed, bounced, archived by a marketer): a consent
#: the shop never sent for them brings them back only when the address's owner confirms by e-mail. The address
#: may be typed by anyone (the newsletter block, an unverified account): Mailchimp knowing it is no less known
#: than a contact of the shop having it.
LEFT = (members.UNSUBSCRIBED, members.CLEANED, members.ARCHIVED)


def status_asked(request, member_status, double_opt_in):
    """The status asked of a member the write found existing without the consent just given (or a confirmation
    asked for): pending for a confirmation, for a consent typed into the newsletter block (whoever typed the address
    of a guest buyer Mailchimp holds is not shown to be its owner) and for a member who left (:data:`LEFT`); else as
    a new member."""
    if request in (ConsentRequest.CONFIRM, ConsentRequest.SIGNUP) or member_status in LEFT:
        return members.PENDING
    return status_if_new(True, double_opt_in)


def request_left(request, member_status):
    """The consent request a row keeps once a send carried ``request`` and left the member ``member_status``: a
    consent typed into the newsletter block (:attr:`~ConsentRequest.SIGNUP`) whose member is ``pending`` (its owner
    was mailed a link: the address was known to Mailchimp, or double opt-in) is still a request its owner has not
    confirmed, and stays one (:attr:`~ConsentRequest.CONFIRM`) until they do (the ``subscribe`` webhook), so that
    no later first send (another audience, whatever its opt-in setting) subscribes the address outright. Any other
    request is done ("")."""
    if request == ConsentRequest.SIGNUP and member_status == members.PENDING:
        return ConsentRequest.CONFIRM
    return ""


def requested_change(request, change, permission, member_status, double_opt_in, consent_last_sent=None):
    """The status to force once the row's consent request is taken into account (``change``: what the
    consent alone asks for; ``consent_last_sent``: the row's consent last sent, None when never)."""
    if request == ConsentRequest.SIGNUP and permission and change == members.SUBSCRIBED and not consent_last_sent:
        # A consent from an address nobody proved theirs (the newsletter block, an account's unproven address),
        # for a contact the shop had sent without consent: nothing is forced. The member write carries it as
        # ``status_if_new``, and a member the answer shows existing without it is asked to confirm
        # (:func:`status_asked`), as for a contact never sent.
        return None
    if request in ConsentRequest.GIVEN and permission and change is None and member_status not in (
            "", members.SUBSCRIBED, members.PENDING):
        # A consent given since the last send reaches a member the shop never told (a former guest buyer).
        # Never sent ("" ): the member write carries it as ``status_if_new``, and the answer says whether the
        # member existed (see ContactPlan.run and the batch's members phase). A member who left and was never
        # sent the shop's consent confirms first (:func:`status_asked`); one the shop had subscribed (a marketer
        # archived it since) comes back as the consent says.
        if consent_last_sent is None:
            return status_asked(request, member_status, double_opt_in)
        return status_if_new(True, double_opt_in)
    if request == ConsentRequest.CONFIRM:
        # Someone who may not own the address asked: its owner confirms by e-mail. A withdrawal on its way
        # makes the member pending, never subscribed; a cleaned address (it bounces) is mailed nothing.
        # Otherwise no status is forced: the shop's view of the member may be stale (subscribed on Mailchimp's
        # own form, the webhook lost), and forcing pending would turn a subscriber back to pending. The member
        # write asks for pending only if new, and its answer says whether the member exists without a
        # subscription (then pending is asked for: see ContactPlan.run).
        if member_status == members.CLEANED:
            return change
        return members.PENDING if change == members.UNSUBSCRIBED else None
    if request == ConsentRequest.UNSUBSCRIBE and not permission and change is None and member_status in (
            "", members.SUBSCRIBED, members.PENDING, members.ARCHIVED):
        # The shopper asked to be unsubscribed, though the shop never sent their consent (they subscribed
        # elsewhere): their wish is sent all the same. Also where the shop never sent them to the audience
        # (""): a member it has of the address (an audience chosen since, into which a marketer imported
        # subscribers) is unsubscribed, and a member the write creates gets ``status_if_new``. An archived member
        # too: only a status reaches it, and a marketer who unarchives it later finds it unsubscribed.
        return members.UNSUBSCRIBED
    return change


def confirmation_lapsed(member_status, link_sent_at, now, lifetime):
    """Whether the confirmation link Mailchimp mailed (the member is still ``pending``) is older than its
    lifetime (a timedelta): its owner is taken not to have seen it. A link of unknown age (mailed before the
    shop kept the time, or on Mailchimp's own form) never lapses."""
    return member_status == members.PENDING and link_sent_at is not None and now - link_sent_at > lifetime


def fresh_link_due(member_status, link_sent_at, requested_at, now, lifetime):
    """Whether a shopper asked to subscribe after the confirmation link lapsed: Mailchimp mails a fresh one
    (the member is asked ``pending`` again). A send for anything else (a new name) mails nothing."""
    return (confirmation_lapsed(member_status, link_sent_at, now, lifetime) and requested_at is not None
            and requested_at > link_sent_at + lifetime)


def may_send_cart(permission, send_unconsented):
    return bool(permission) or bool(send_unconsented)
