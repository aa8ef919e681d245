"""The newsletter block's form: an address, and the names only where the shop owner asks for them."""
from django import forms
from django.core import signing
from django.utils.translation import ugettext_lazy as _
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import domain_problem

NAME_LENGTH = PersonContact._meta.get_field("first_name").max_length
#: The hidden input of a block that asks for names: only a POST carrying its signed value may give names.
NAMES_ASKED_INPUT = "names_asked"
NAMES_ASKED_SALT = "shoop_mailchimp.newsletter.names_asked"


def names_asked_token(shop):
    """The signed value of :data:`NAMES_ASKED_INPUT` a block asking for names renders for ``shop``."""
    return signing.dumps(shop.pk, salt=NAMES_ASKED_SALT)


def names_asked(data, shop):
    """Whether a POST comes from a block of ``shop`` that asks for names: a crafted POST to a shop whose blocks ask
    none names nobody (a stranger typing someone's address would choose how every campaign greets them)."""
    try:
        return signing.loads(str(data.get(NAMES_ASKED_INPUT, "")), salt=NAMES_ASKED_SALT) == shop.pk
    except signing.BadSignature:
        return False


class NewsletterSignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254,
        error_messages={"required": _("Enter your e-mail address to subscribe."),
                        "invalid": _("Enter a valid e-mail address, such as name@example.com.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": _("name@example.com")}),
    )
    first_name = forms.CharField(label=_("First name (optional)"), max_length=NAME_LENGTH, required=False,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name (optional)"), max_length=NAME_LENGTH, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))

    def __init__(self, *args, ask_name=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_name:
            del self.fields["first_name"]
            del self.fields["last_name"]

    def clean_email(self):
        """Django's validator takes domains no mailbox can have (one IDNA 2008 refuses, such as ``\u2603.example``):
        refused as any other bad address, rather than thanking the shopper for a subscription that cannot be
        sent."""
        email = self.cleaned_data["email"]
        if domain_problem(email):
            raise forms.ValidationError(self.fields["email"].error_messages["invalid"], code="invalid")
        return email

    def input_to_show_again(self):
        """What the shopper typed, cut to the fields' lengths: a refused address is shown for correction, not
        erased (kept in the session for the next page only)."""
        return {name: str(self.data.get(name, ""))[:field.max_length] for name, field in self.fields.items()}

    def first_error(self):
        return next(iter(error for errors in self.errors.values() for error in errors))
