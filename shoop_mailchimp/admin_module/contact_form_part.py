"""The admin's contact edit form carries its marketing box as shown (see :mod:`shoop_mailchimp.consent_shown`): a
form shown before an unsubscribe and saved with the box as it was shown keeps the withdrawal; only a box the staff
changed changes the consent."""
from django import forms
from shuup.admin.form_part import FormPart, TemplatedFormDef

from shoop_mailchimp.consent_shown import ConsentShownField, mark_shown, shown_consent

FORM_NAME = "mailchimp_consent"
#: Shuup's base contact form part (the one that saves the contact) has priority -1000: this part's ``form_valid``
#: runs before it.
PRIORITY = -1100


class ConsentShownForm(forms.Form):
    shown = ConsentShownField()


class ConsentShownFormPart(FormPart):
    priority = PRIORITY

    def get_form_defs(self):
        if self.object is None or self.object.pk is None:
            return
        yield TemplatedFormDef(
            FORM_NAME,
            ConsentShownForm,
            template_name="shoop_mailchimp/admin/contact_consent_shown.jinja",
            required=True,
            kwargs={"initial": {"shown": shown_consent(self.object)}},
        )

    def form_valid(self, form):
        if FORM_NAME not in form.forms or "base" not in form.forms:
            return
        mark_shown(form["base"].instance, form[FORM_NAME].cleaned_data.get("shown"))
