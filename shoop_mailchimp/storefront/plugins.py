"""The "Newsletter signup" block a shop owner places on any page with the xtheme editor."""
from django import forms
from django.urls import reverse
from django.utils.translation import ugettext_lazy as _
from shuup.xtheme import TemplatedPlugin
from shuup.xtheme.plugins.forms import TranslatableField

from shoop_mailchimp.storefront.forms import NAMES_ASKED_INPUT, NewsletterSignupForm, names_asked_token
from shoop_mailchimp.storefront.subscriptions import double_opt_in
from shoop_mailchimp.storefront.views import REJECTED_INPUT, SIGNUP_VIEW_NAME


class NewsletterPlugin(TemplatedPlugin):
    identifier = "shoop_mailchimp_newsletter"
    name = _("Newsletter signup (Mailchimp)")
    template_name = "shoop_mailchimp/storefront/newsletter_block.jinja"
    fields = [
        ("title", TranslatableField(label=_("Title"), required=False, initial="")),
        ("text", TranslatableField(label=_("Text above the form"), required=False, initial="")),
        ("ask_name", forms.BooleanField(label=_("Ask for a first and last name (optional for the shopper)"),
                                        required=False, initial=False)),
    ]

    def get_context_data(self, context):
        request = context["request"]
        # Each block of a page gets ids of its own (a content block and a footer block: review nu57 F7).
        number = getattr(request, "_shoop_mailchimp_newsletter_blocks", 0) + 1
        request._shoop_mailchimp_newsletter_blocks = number
        auto_id = "newsletter-%s" if number == 1 else "newsletter-%d-%%s" % number
        return {
            "request": request,
            "title": self.get_translated_value("title") or _("Newsletter"),
            "text": self.get_translated_value("text", default=""),
            "form": NewsletterSignupForm(ask_name=bool(self.config.get("ask_name")), auto_id=auto_id,
                                         initial=request.session.pop(REJECTED_INPUT, None)),
            "action": reverse(SIGNUP_VIEW_NAME),
            "next_url": request.get_full_path(),
            "double_opt_in": double_opt_in(request.shop),
            "names_asked": names_asked_token(request.shop) if self.config.get("ask_name") else "",
            "names_asked_input": NAMES_ASKED_INPUT,
        }
