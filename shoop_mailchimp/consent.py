"""Consent rules: who may be subscribed, and when a member's status may change.

- A contact's ``marketing_permission`` is the shop's record of consent.
- A new member gets ``subscribed`` (``pending`` with double opt-in) only with consent, otherwise
  ``transactional`` (Mailchimp's status for people who only buy).
- An existing member's status is changed only when consent changed *in the shop* since it was last
  sent: on → subscribed (pending with double opt-in), off → unsubscribed. A first sync never
  changes an existing member, and a member who unsubscribed or was cleaned in Mailchimp is never
  re-subscribed by a resync: only a new consent given in the shop does that.
- A cart (abandoned-cart e-mails) is sent for a shopper who consented, or, when the shop sends people who
  did not (``send_unconsented``), for any known shopper; it never subscribes anyone.
"""
from shoop_mailchimp.mailchimp import members


def status_if_new(permission, double_opt_in):
    if not permission:
        return members.TRANSACTIONAL
    return members.PENDING if double_opt_in else members.SUBSCRIBED


def status_change(permission, consent_last_sent, double_opt_in):
    """The status to force on an existing member, or None to leave Mailchimp's status alone."""
    if consent_last_sent is None or bool(permission) == bool(consent_last_sent):
        return None
    if permission:
        return members.PENDING if double_opt_in else members.SUBSCRIBED
    return members.UNSUBSCRIBED


def may_send_cart(permission, send_unconsented):
    return bool(permission) or bool(send_unconsented)
