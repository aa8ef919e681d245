"""The newsletter checkbox on Shuup's registration form: unticked by default, and ticking it is the only
way it gives consent."""
from django import forms
from django.utils.translation import get_language
from django.utils.translation import ugettext_lazy as _
from shuup.front.providers import FormFieldDefinition, FormFieldProvider
from shuup.front.signals import person_registration_save

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront.subscriptions import REGISTRATION, double_opt_in, subscribe_person

FIELD_NAME = "shoop_mailchimp_newsletter"
REGISTERED_UID = "shoop_mailchimp.storefront.person_registered"


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
    if newsletter_ticked(request.POST):
        subscribe_person(request.shop, contact, REGISTRATION)


def connect_receivers():
    person_registration_save.connect(person_registered, dispatch_uid=REGISTERED_UID)
