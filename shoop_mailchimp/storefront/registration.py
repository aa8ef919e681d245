"""The newsletter checkbox on Shuup's registration form: unticked by default, and ticking it is the only
way it gives consent. Rate limited as the newsletter block is (per client IP and per address: Shuup lets any
number of accounts share an address). Where the account must be activated first (Shuup's
``SHUUP_REGISTRATION_REQUIRES_ACTIVATION``), the consent is recorded when its owner activates it: the
activation link, mailed to the address, proves the address is theirs; an account never activated subscribes
nobody."""
from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import ugettext_lazy as _
from registration.signals import user_activated
from shuup.core.models import get_person_contact
from shuup.front.apps.registration.signals import company_contact_activated
from shuup.front.providers import FormDefinition, FormDefProvider, FormFieldDefinition, FormFieldProvider
from shuup.front.signals import company_registration_save, person_registration_save

from shoop_mailchimp import shop_consent
from shoop_mailchimp.admin_module import messages  # script-safe (see tests/security)
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import rate_limits
from shoop_mailchimp.storefront.subscriptions import (
    REGISTRATION,
    await_activation,
    double_opt_in,
    subscribe_after_activation,
    subscribe_person,
)
from shoop_mailchimp.sync.delivery import schedule_delivery

FIELD_NAME = "shoop_mailchimp_newsletter"
REGISTERED_UID = "shoop_mailchimp.storefront.person_registered"
ACTIVATED_UID = "shoop_mailchimp.storefront.account_activated"
COMPANY_REGISTERED_UID = "shoop_mailchimp.storefront.company_registered"
COMPANY_ACTIVATED_UID = "shoop_mailchimp.storefront.company_activated"
#: The form of the company registration's form group that carries the box.
COMPANY_FORM_NAME = "user_account"
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


class NewsletterFieldMixin:
    """Adds the box to a form of Shuup's company registration form group (which renders only its own forms: the
    box goes with the login information, ``user_account-shoop_mailchimp_newsletter``)."""

    def __init__(self, *args, shop=None, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        for definition in NewsletterFieldProvider().get_fields(request=request):
            self.fields[definition.name] = definition.field


class CompanyNewsletterFormProvider(FormDefProvider):
    """``front_company_registration_form_provider``: the same box for a business registering, on the form group's
    login information form (whatever its class: this one extends it)."""

    def get_definitions(self, **kwargs):
        existing = getattr(self.source, "form_defs", {}).get(COMPANY_FORM_NAME)
        if existing is None or self.request is None or not offered(self.request.shop):
            return []
        if issubclass(existing.form_class, NewsletterFieldMixin):
            return []
        form_class = type("Newsletter" + existing.form_class.__name__, (NewsletterFieldMixin, existing.form_class),
                          {})
        return [FormDefinition(COMPANY_FORM_NAME, form_class, required=existing.required)]


def newsletter_ticked(data, prefix=""):
    return forms.CheckboxInput().value_from_datadict(data, None, prefix + FIELD_NAME)


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
    if newsletter_ticked(request.POST):
        _ticked(request, contact, activation_required())


def company_registered(sender, request, user, company, **kwargs):
    """Shuup's ``company_registration_save``: the person registering the business ticked the box. The account is
    created inactive (activated by its link, or the company by an admin): the consent waits for that."""
    if offered(request.shop) and newsletter_ticked(request.POST, COMPANY_FORM_NAME + "-"):
        _ticked(request, get_person_contact(user), True)


def _ticked(request, contact, wait_for_activation):
    # As the newsletter block: over a limit nothing is recorded (the per-address count is shared with it).
    if not (rate_limits.allow_attempt(rate_limits.PER_IP, rate_limits.client_ip(request))
            and rate_limits.allow_attempt(rate_limits.PER_ADDRESS, contact.email or "")):
        messages.warning(request, TOO_MANY_ATTEMPTS)
        return
    if wait_for_activation:
        await_activation(request.shop, contact, REGISTRATION)
    else:
        subscribe_person(request.shop, contact, REGISTRATION)


def activation_required():
    """Whether Shuup's registration leaves a new account inactive until its owner clicks the mailed link."""
    return bool(getattr(settings, "SHUUP_REGISTRATION_REQUIRES_ACTIVATION", True))


def account_activated(sender, user, request=None, **kwargs):
    """django-registration's ``user_activated``: the link mailed to the account's address was clicked, which
    proves the address is its owner's (a consent given for it later, on the account page, is sent as given while
    the contact keeps it); the box ticked at registration gives its consent now."""
    contact = get_person_contact(user)
    if contact.pk is not None:
        for shop_id in shop_consent.record_proof(contact.pk, user.email):
            schedule_delivery(shop_id)
    subscribe_after_activation(contact)


def company_activated(sender, instance, request=None, **kwargs):
    """Shuup's ``company_contact_activated`` (an admin approved the business): the boxes of its members whose
    account is activated give consent. The approval checks the business, not the mailbox: a member whose account
    waits for its activation link gives consent when they click it (:func:`account_activated`)."""
    for person in instance.members.all():
        user = getattr(person, "user", None)
        if user is not None and user.is_active:
            subscribe_after_activation(person)


def connect_receivers():
    person_registration_save.connect(person_registered, dispatch_uid=REGISTERED_UID)
    company_registration_save.connect(company_registered, dispatch_uid=COMPANY_REGISTERED_UID)
    user_activated.connect(account_activated, dispatch_uid=ACTIVATED_UID)
    company_contact_activated.connect(company_activated, dispatch_uid=COMPANY_ACTIVATED_UID)
