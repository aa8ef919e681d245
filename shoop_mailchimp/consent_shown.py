"""A contact form's marketing box as the page showed it.

Django reloads the contact when a form is posted, so a form shown before an unsubscribe (a webhook) and saved with
its box as it was shown would look like a deliberate tick: the consent the person withdrew meanwhile would come back.
The admin's contact form (:mod:`shoop_mailchimp.admin_module.contact_form_part`) and Shuup's storefront *Customer
Information* and *Company Information* forms (:func:`add_to_form`) carry a hidden field with the box as rendered.
Posted back, it is put on the contact before Shuup saves it (:data:`CONSENT_AS_SHOWN`), and
:func:`shoop_mailchimp.receivers.contacts.contact_saving` takes it for the consent the editor saw: a box saved as it
was shown keeps the consent the database holds now; a box changed from what was shown decides.

The posted value is never trusted for more than "what was shown": it is ``True``, ``False`` or nothing (anything
else is nothing: the save is judged as before, against the contact as loaded). Whatever it says, the save's consent
is either the one the database holds or the box as posted; a forged value can keep a consent the database holds,
never give one the box does not.
"""
import functools

from django import forms

#: The hidden field's name (in Shuup's storefront contact forms; the admin's is its own small form).
FIELD_NAME = "mailchimp_consent_shown"
#: Put on the contact by the form before Shuup saves it: the marketing box as the page showed it (a bool). Read
#: once, by the next save (see :func:`shoop_mailchimp.receivers.contacts.contact_saving`).
CONSENT_AS_SHOWN = "_shoop_mailchimp_consent_as_shown"
#: Set on a form class :func:`add_to_form` extended.
EXTENDED = "_shoop_mailchimp_consent_shown"


class ConsentShownField(forms.NullBooleanField):
    """Hidden: ``True``/``False`` as rendered; anything else posted is ``None`` (no error, nothing shown)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "")
        super().__init__(**kwargs)


def shown_consent(contact):
    """The consent a form showing ``contact`` renders in its box, or None for a contact not saved yet (nothing shown
    to keep)."""
    if contact is None or contact.pk is None:
        return None
    return bool(contact.marketing_permission)


def mark_shown(contact, shown):
    """Tell the next save of ``contact`` what its form showed (None: nothing known; the save is judged as before)."""
    if contact is not None and contact.pk is not None and isinstance(shown, bool):
        setattr(contact, CONSENT_AS_SHOWN, shown)


def add_to_form(form_class):
    """Give a contact ModelForm of Shuup's storefront (its *Customer Information* and *Company Information* forms
    have the marketing box, and render their hidden fields) the hidden field, and have its ``save`` tell the
    contact what the form showed. Shuup offers no form provider for these pages: the classes are extended once, at
    start-up (and any form subclassing them with them)."""
    if getattr(form_class, EXTENDED, False):
        return
    original_init, original_save = form_class.__init__, form_class.save

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if "marketing_permission" in self.fields:
            self.fields[FIELD_NAME] = ConsentShownField(initial=shown_consent(self.instance))

    @functools.wraps(original_save)
    def save(self, *args, **kwargs):
        if FIELD_NAME in self.fields and "marketing_permission" in self.fields:
            mark_shown(self.instance, (getattr(self, "cleaned_data", None) or {}).get(FIELD_NAME))
        return original_save(self, *args, **kwargs)

    form_class.__init__, form_class.save = __init__, save
    setattr(form_class, EXTENDED, True)


def extend_storefront_forms():
    """Extend Shuup's storefront contact forms (when Shuup's customer information app is installed)."""
    from django.apps import apps

    if not apps.is_installed("shuup.front.apps.customer_information"):
        return
    from shuup.front.apps.customer_information.forms import CompanyContactForm, PersonContactForm

    for form_class in (PersonContactForm, CompanyContactForm):
        add_to_form(form_class)
