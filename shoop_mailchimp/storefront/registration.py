"""The newsletter checkbox on Shuup's registration form: unticked by default, and ticking it is the only
way it gives consent. Rate limited as the newsletter block is (per client IP and per address: Shuup lets any
number of accounts share an address). Where the account must be activated first (Shuup's
``SHUUP_REGISTRATION_REQUIRES_ACTIVATION``), the consent is recorded when its owner activates it: the
activation link, mailed to the address, proves the address is theirs; an account never activated subscribes
nobody."""
from django import forms
from django.conf import settings
from django.contrib import messages
from django.utils.translation import get_language
from django.utils.translation import ugettext_lazy as _
from registration.signals import user_activated
from shuup.core.models import get_person_contact
from shuup.front.providers import FormFieldDefinition, FormFieldProvider
from shuup.front.signals import person_registration_save

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import rate_limits
from shoop_mailchimp.storefront.subscriptions import (
    REGISTRATION,
    await_activation,
    double_opt_in,
    subscribe_after_activation,
    subscribe_person,
)

FIELD_NAME = "shoop_mailchimp_newsletter"
REGISTERED_UID = "shoop_mailchimp.storefront.person_registered"
ACTIVATED_UID = "shoop_mailchimp.storefront.account_activated"
TOO_MANY_ATTEMPTS = _("Your account was created, but we received too many newsletter subscription requests from "
                      "you or for this address, so the newsletter was not subscribed. You can subscribe later on "
                      "your account page.")


def offered(shop):
    """The box is shown where the shop sends to Mailchimp now (enabled, initialized, connected, not paused), as
    the newsletter block is: elsewhere its promise (a confirmation e-mail, a subscription) would not be kept.
    A shop that only records changes meanwhile (see ``MailchimpConfiguration.objects.recording``) offers none."""
    return MailchimpConfiguration.objects.active().filter(shop=shop).exists()


class NewsletterFieldProvider(FormFieldProvider):
    def get_fields(self, **kwargs):
        request = kwargs.get("request")
        if request is None or not offered(request.shop):
            return []
        help_text = _("We will e-mail you a link to confirm.") if double_opt_in(request.shop) else ""
        field = forms.BooleanField(label=_("Send me the newsletter"), required=False, initial=False,
                                   help_text=help_text)
        return [FormFieldDefinition(name=FIELD_NAME, field=field)]


def newsletter_ticked(data):
    return forms.CheckboxInput().value_from_datadict(data, None, FIELD_NAME)


def person_registered(sender, request, user, contact, **kwargs):
    """Shuup's ``person_registration_save``: sent inside the registration's transaction, so the consent and
    its sync-state row commit with the new account. A box the form did not show gives nothing."""
    if not offered(request.shop):
        return
    if not contact._language and get_language():
        # The language of the page they registered on, as the newsletter block gives a new contact: Mailchimp's
        # e-mails to them (a confirmation under double opt-in, campaigns) follow it.
        contact.language = get_language()
        contact.save(update_fields=["_language"])
    if not newsletter_ticked(request.POST):
        return
    # As the newsletter block: over a limit nothing is recorded (the per-address count is shared with it).
    if not (rate_limits.allow_attempt(rate_limits.PER_IP, rate_limits.client_ip(request))
            and rate_limits.allow_attempt(rate_limits.PER_ADDRESS, contact.email or "")):
        messages.warning(request, TOO_MANY_ATTEMPTS)
        return
    if activation_required():
        await_activation(request.shop, contact, REGISTRATION)
    else:
        subscribe_person(request.shop, contact, REGISTRATION)


def activation_required():
    """Whether Shuup's registration leaves a new account inactive until its owner clicks the mailed link."""
    return bool(getattr(settings, "SHUUP_REGISTRATION_REQUIRES_ACTIVATION", True))


def account_activated(sender, user, request=None, **kwargs):
    """django-registration's ``user_activated``: the box ticked at registration gives its consent now."""
    subscribe_after_activation(get_person_contact(user))


def connect_receivers():
    person_registration_save.connect(person_registered, dispatch_uid=REGISTERED_UID)
    user_activated.connect(account_activated, dispatch_uid=ACTIVATED_UID)
