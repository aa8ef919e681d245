"""The *marketing permission* box of Shuup's admin contact form and of its storefront *Customer Information* page
says the consent as those forms give it: in every shop (see :mod:`shoop_mailchimp.shop_consent`).

Shuup keeps one flag for all shops; a contact whose consent was given in one shop's storefront only has it on,
and those forms would show the box ticked although the consent counts in that shop only: a tick could not be
given, and a save with the box as shown would change nothing. So where the consent does not count in every
shop the contact belongs to, the box is shown unticked: ticked and saved, it gives the consent in every shop;
saved unticked, it keeps the consent where it counts (no withdrawal: the box was never shown ticked).
Installed once, when the app is ready.
"""
from shoop_mailchimp import shop_consent
from shoop_mailchimp.receivers.contacts import GIVE_CONSENT_EVERYWHERE
from shoop_mailchimp.shops import shop_ids_for_contact

FIELD = "marketing_permission"
#: Set on a form whose box is shown unticked for a consent that counts in some shops only.
SHOWN_UNTICKED = "_shoop_mailchimp_consent_shown_unticked"
#: The forms, by the app that shows them.
FORMS = {
    "shuup.admin": ("shuup.admin.modules.contacts.forms:PersonContactBaseForm",
                    "shuup.admin.modules.contacts.forms:CompanyContactBaseForm"),
    "shuup.front.apps.customer_information": ("shuup.front.apps.customer_information.forms:PersonContactForm",
                                              "shuup.front.apps.customer_information.forms:CompanyContactForm"),
}


def counts_in_some_shops_only(contact):
    """Whether the contact's consent is on but does not count in every shop it belongs to."""
    if not contact.pk or not contact.__dict__.get(FIELD):
        return False
    return any(not shop_consent.consents_in(shop_id, contact) for shop_id in shop_ids_for_contact(contact))


def scope_box(form_class):
    """Show the form's box as the consent counts everywhere, and read a tick or its absence so."""
    if getattr(form_class, SHOWN_UNTICKED + "_installed", False):
        return
    original_init, original_post_clean = form_class.__init__, form_class._post_clean

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        shown_unticked = FIELD in self.fields and counts_in_some_shops_only(self.instance)
        setattr(self, SHOWN_UNTICKED, shown_unticked)
        if shown_unticked:
            self.initial[FIELD] = False

    def _post_clean(self):
        original_post_clean(self)
        if getattr(self, SHOWN_UNTICKED, False) and FIELD in self.cleaned_data:
            if self.cleaned_data[FIELD]:
                setattr(self.instance, GIVE_CONSENT_EVERYWHERE, True)  # ticked: consent given in every shop
            else:
                setattr(self.instance, FIELD, True)  # left unticked as shown: the consent stays where it counts

    form_class.__init__ = __init__
    form_class._post_clean = _post_clean
    setattr(form_class, SHOWN_UNTICKED + "_installed", True)


def install():
    from django.apps import apps
    from shuup.utils.importing import load

    for app, names in FORMS.items():
        if apps.is_installed(app):
            for name in names:
                scope_box(load(name))
