"""The Mailchimp block on the shop edit page: key, audience, store id and switches.

Saving never waits on Mailchimp: a changed key or audience queues an account check, which the
drainer runs; its findings (the account's audiences, what is wrong) are shown here and on the
status page. The key is never rendered back: only its last four characters.
"""
from django import forms
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import ugettext_lazy as _
from shuup.admin.form_part import FormPart, TemplatedFormDef

from shoop_mailchimp.admin_module import messages
from shoop_mailchimp.admin_module.permissions import can_manage
from shoop_mailchimp.admin_module.preview import preview_context, request_preview
from shoop_mailchimp.initialization import audience_taken_message
from shoop_mailchimp.initialize_preview import is_confirmed
from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.mailchimp.resources import get_or_none, list_path
from shoop_mailchimp.mailchimp.transport import check_api_key_format, open_session
from shoop_mailchimp.models import JobKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.models.configuration import APIKeyUndecryptable
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.jobs import open_jobs, request_job
from shoop_mailchimp.sync.kinds.audience_fields import member_write_inputs, resend_if_changed
from shoop_mailchimp.sync.kinds.group import MAX_INTERESTS, interest_groups, shop_groups
from shoop_mailchimp.sync.kinds.merge_fields import (
    SHOP_FIELDS,
    audience_fields,
    chosen_map,
    missing_fields,
)
from shoop_mailchimp.sync.kinds.tags import MAX_TAG_LENGTH, clean_tag, rule_keys, rules_added

FORM_NAME = "mailchimp"


def get_configuration(shop):
    """The shop's configuration, unsaved if it has none yet."""
    try:
        return shop.mailchimp_configuration
    except MailchimpConfiguration.DoesNotExist:
        return MailchimpConfiguration(shop=shop)


class MailchimpConfigurationForm(forms.Form):
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    remove_api_key = forms.BooleanField(label=_("Remove the stored key"), required=False)
    # A posted value is not checked against the choices: its length is, as the audience id's.
    audience = forms.CharField(label=_("Audience"), required=False, max_length=64, widget=forms.Select())
    list_id = forms.CharField(
        label=_("Audience id"),
        required=False,
        max_length=64,
        help_text=_("Mailchimp: Audience > Settings > Audience name and defaults > Audience ID."),
    )
    store_id = forms.CharField(
        label=_("eCommerce store id"),
        required=False,
        max_length=64,
        help_text=_("The id of this shop's store in Mailchimp; fixed once initialized."),
    )
    enabled = forms.BooleanField(label=_("Send changes to Mailchimp"), required=False)
    double_opt_in = forms.BooleanField(
        label=_("Double opt-in"),
        required=False,
        help_text=_("New subscribers get Mailchimp's confirmation e-mail and stay pending until they confirm."),
    )
    send_unconsented = forms.BooleanField(
        label=_("Send contacts who did not consent"),
        required=False,
        help_text=_("As transactional members, for order history, segments and order e-mails. Mailchimp counts "
                    "them toward the plan's contacts: untick to send only people who consented, and their orders."),
    )
    send_order_notifications = forms.BooleanField(
        label=_("Let Mailchimp send order notifications"),
        required=False,
        help_text=MailchimpConfiguration._meta.get_field("send_order_notifications").help_text,
    )
    site_script_enabled = forms.BooleanField(
        label=_("Mailchimp site script on the storefront"),
        required=False,
        help_text=_("Site tracking, pop-up forms and browse abandonment e-mails (the store's connected site, linked "
                    "at initialization). With the shop's cookie consent on, only for visitors who accepted a cookie "
                    "category that names Mailchimp's cookie _mcid."),
    )
    interest_groups = forms.MultipleChoiceField(
        label=_("Contact groups as Mailchimp interests"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each chosen group becomes an interest under \"Contact Group\" in the audience, so that campaigns "
                    "can be sent to a group. Mailchimp allows at most 60 interests per audience. Shuup's built-in "
                    "groups (every person, every company) are left out unless chosen."),
    )
    customer_tag = forms.CharField(
        label=_("Tag for customers"), required=False, max_length=MAX_TAG_LENGTH,
        help_text=_("Members who placed an order in this shop get this tag (e.g. \"customer\"); empty: no tag."))
    company_tag = forms.CharField(
        label=_("Tag for companies"), required=False, max_length=MAX_TAG_LENGTH,
        help_text=_("Members who are company contacts get this tag (e.g. \"company\"); empty: no tag."))
    tag_groups = forms.MultipleChoiceField(
        label=_("Contact groups as Mailchimp tags"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Members of each chosen group get a tag named after the group, removed when they leave it. "
                    "Tags added in Mailchimp by hand are never removed."))
    #: Set by the "Save and initialize Mailchimp" button, which submits the whole shop page.
    initialize = forms.BooleanField(required=False, widget=forms.HiddenInput)
    #: Set by "Save and initialize as shown": the preview whose figures the shop owner saw.
    confirm_preview = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, configuration, **kwargs):
        self.configuration = configuration
        initial = kwargs.setdefault("initial", {})
        initial.update(
            store_id=configuration.store_id or MailchimpConfiguration.default_store_id(configuration.shop),
            enabled=configuration.enabled,
            double_opt_in=configuration.double_opt_in,
            send_unconsented=configuration.send_unconsented,
            send_order_notifications=configuration.send_order_notifications,
            site_script_enabled=configuration.site_script_enabled,
        )
        initial["interest_groups"] = [str(pk) for pk in interest_groups(configuration).values_list("pk", flat=True)]
        initial.update(customer_tag=configuration.customer_tag, company_tag=configuration.company_tag,
                       tag_groups=[str(pk) for pk in configuration.tag_group_ids or ()])
        super().__init__(*args, **kwargs)
        self.fields["interest_groups"].choices = self.fields["tag_groups"].choices = [
            (str(group.pk), group.safe_translation_getter("name", any_language=True) or group.identifier or group.pk)
            for group in shop_groups(configuration.shop_id).order_by("pk")
        ]
        self.merge_field_names = self._add_merge_fields(configuration)
        self.preview = preview_context(configuration)
        # Shuup skips unchanged optional forms; a paused configuration is checked even when unchanged.
        self.empty_permitted = False
        self.audiences = None
        if configuration.api_key_undecryptable:
            self.fields["api_key"].help_text = str(APIKeyUndecryptable())
        elif configuration.has_api_key:
            self.audiences = configuration.audiences
            self.fields["api_key"].help_text = _(
                "A key is stored (ending in …%(hint)s). Leave this blank to keep it."
            ) % {"hint": escape(configuration.api_key_hint)}  # django-bootstrap3 renders help texts unescaped
        else:
            del self.fields["remove_api_key"]
            self.fields["api_key"].help_text = _("Mailchimp: Account > Extras > API keys.")
        if self.audiences:
            known = {list_id for list_id, _name in self.audiences}
            self.fields["audience"].widget.choices = [("", _("(enter the id below)"))] + [
                (list_id, "%s (%s)" % (name, list_id)) for list_id, name in self.audiences
            ]
            self.fields["list_id"].label = _("…or the audience id")
            if configuration.list_id in known:
                self.initial["audience"] = configuration.list_id
            else:
                self.initial["list_id"] = configuration.list_id
        else:
            del self.fields["audience"]
            self.initial["list_id"] = configuration.list_id
        if configuration.is_initialized:
            self.fields["store_id"].disabled = True

    @property
    def merge_fields_being_read(self):
        """Whether an account check (which reads the audience's merge fields) waits for the drainer or runs."""
        return open_jobs(self.configuration.shop_id).filter(kind=JobKind.CHECK_ACCOUNT).exists()

    def _add_merge_fields(self, configuration):
        """One choice per shop field among the audience's merge fields of a fitting type, and the offer to create
        the missing ones; none until the account check has read the audience's fields. Returns their names."""
        fields = audience_fields(configuration)
        if fields is None:
            return []
        chosen = chosen_map(configuration)
        names = []
        for shop_field in SHOP_FIELDS:
            name = "merge_" + shop_field.key
            choices = [(tag, "%s (*|%s|*, %s)" % (field["name"], tag, field["type"])) for tag, field in fields.items()
                       if field["type"] in shop_field.types]
            self.fields[name] = forms.ChoiceField(label=shop_field.label, required=False,
                                                  choices=[("", _("(not sent)"))] + choices)
            self.initial[name] = chosen.get(shop_field.key, "") if chosen.get(shop_field.key) in dict(choices) else ""
            names.append(name)
        self.fields["read_merge_fields"] = forms.BooleanField(
            label=_("Read the audience's merge fields again"), required=False,
            help_text=_("After fields were added or changed in Mailchimp: they are read in a moment."))
        missing = missing_fields(configuration) if not configuration.disconnected_on else []  # nothing is written
        if missing:
            self.fields["create_merge_fields"] = forms.MultipleChoiceField(
                label=_("Create these merge fields in the audience"), required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=[(field.key, "%s (*|%s|*, %s)" % (field.label, field.tag, field.types[0]))
                         for field in missing],
                help_text=_("Created by Mailchimp in a moment, then filled for every member."))
        return names

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        config = self.configuration
        entered_key = data.get("api_key") or ""
        if entered_key:
            api_key = entered_key
        elif data.get("remove_api_key"):
            api_key = ""
        elif config.api_key_undecryptable:
            self.add_error("api_key", str(APIKeyUndecryptable()))
            return data
        else:
            api_key = config.api_key
        list_id = (data.get("list_id") or "").strip() or (data.get("audience") or "")
        data["effective_api_key"] = api_key
        data["effective_list_id"] = list_id
        data["account_changed"] = bool(entered_key) or list_id != config.list_id or bool(
            data.get("remove_api_key"))

        store_gone = (config.disconnected_on and config.store_deleted_on) or (
            list_id != config.list_id and config.is_initialized and self._audience_gone(config))
        if list_id != config.list_id and config.is_initialized and not store_gone:
            # The store belongs to its audience in Mailchimp (its customers are that audience's members), also
            # while the shop is paused or disconnected with the store kept: a shop sending on through it would
            # file its customers' opt-ins in the old audience. Moving is a disconnect that deletes the store, and
            # an Initialize with the new audience (which forgets the old audience's members: see
            # state.forget_audience).
            field = "list_id" if (data.get("list_id") or "").strip() or "audience" not in self.fields else "audience"
            self.add_error(field, _(
                "The shop's store %(store)s in Mailchimp belongs to the audience %(audience)s, also while the shop "
                "is paused or disconnected. To move to another audience: disconnect the shop and delete its store "
                "(type its id when disconnecting; the status page says when it is deleted), then choose the "
                "audience and initialize again.") % {"audience": config.list_id, "store": config.store_id})
            return data
        holder = config.audience_holder(list_id) if list_id and (
            list_id != config.list_id or not config.is_initialized) else None
        if holder is not None:
            # An audience serves one shop of the installation (docs/configuration.rst, One audience, one shop).
            field = "list_id" if (data.get("list_id") or "").strip() or "audience" not in self.fields else "audience"
            self.add_error(field, audience_taken_message(list_id, holder))
            return data
        if data.get("enabled") and not (api_key and list_id):
            self.add_error("enabled", _("Set the API key and the audience before enabling the sync."))
            return data
        taken = {}
        for name in self.merge_field_names:
            tag = data.get(name)
            if tag and tag in taken:
                self.add_error(name, _("*|%(tag)s|* already receives %(other)s: a merge field holds one value.") % {
                    "tag": tag, "other": self.fields[taken[tag]].label})
                return data
            taken[tag] = name
        if len(data.get("interest_groups") or []) > MAX_INTERESTS:
            self.add_error("interest_groups", _("Mailchimp allows at most %(max)d interests per audience: choose at "
                                                "most %(max)d groups.") % {"max": MAX_INTERESTS})
            return data
        if (data.get("initialize") or data.get("confirm_preview")) and not (api_key and list_id):
            self.add_error(None, _("Enter the API key and the audience before initializing."))
            return data
        if entered_key:
            try:
                check_api_key_format(entered_key)
            except MailchimpError as error:
                self.add_error("api_key", str(error))
        return data


    @staticmethod
    def _audience_gone(config):
        """Whether the shop's audience was deleted in Mailchimp (a shop paused for it): its stores went with it,
        so another audience may be chosen; the shop sends again once Initialize has the store there. Asked of
        Mailchimp only for a paused shop (one GET)."""
        if not config.paused_reason or not config.has_api_key or config.api_key_undecryptable:
            return False
        try:
            return get_or_none(open_session(config), list_path(config.list_id), fields="id") is None
        except MailchimpError:
            return False


#: The configuration's fields the shop form always writes; others only where it changes them (see
#: :meth:`MailchimpFormPart.form_valid`).
FORM_FIELDS = [
    "encrypted_api_key", "list_id", "enabled", "double_opt_in", "send_unconsented", "send_order_notifications",
    "site_script_enabled", "customer_tag", "company_tag", "tag_group_ids", "modified_on",
]


class MailchimpFormPart(FormPart):
    priority = 20
    name = FORM_NAME

    def get_form_defs(self):
        if not self.object.pk or not can_manage(self.request.user):
            return
        yield TemplatedFormDef(
            name=self.name,
            form_class=MailchimpConfigurationForm,
            template_name="shoop_mailchimp/admin/shop_form_part.jinja",
            required=False,
            kwargs={"configuration": get_configuration(self.object)},
        )

    def form_valid(self, form):
        if self.name not in form.forms:
            return
        part = form.forms[self.name]
        data = part.cleaned_data
        config = part.configuration
        if not config.pk and not (data["effective_api_key"] or data["effective_list_id"] or data["enabled"]):
            return
        member_writes_before = member_write_inputs(config)
        sending_before = bool(config.pk) and config.is_active
        audience_changed = config.list_id != data["effective_list_id"]
        config.api_key = data["effective_api_key"]
        config.list_id = data["effective_list_id"]
        if not config.is_initialized:
            config.store_id = (data.get("store_id") or "").strip() or MailchimpConfiguration.default_store_id(
                self.object
            )
        fields = list(FORM_FIELDS) if config.is_initialized else FORM_FIELDS + ["store_id"]
        config.enabled = data["enabled"]
        config.double_opt_in = data["double_opt_in"]
        config.send_unconsented = data["send_unconsented"]
        config.send_order_notifications = data["send_order_notifications"]
        config.site_script_enabled = data["site_script_enabled"]
        if audience_changed:
            # Another audience: its fields are read by the account check, and mapped by default until chosen.
            config.audience_merge_fields = config.merge_fields_read_on = config.merge_field_map = None
            fields += ["audience_merge_fields", "merge_fields_read_on", "merge_field_map"]
        # Another audience of an initialized shop (disconnected, its store deleted: clean refuses it otherwise):
        # what the shop knows of the old audience's members stays until Initialize creates the store in the new
        # one (state.forget_audience), so an admin who chooses the old audience again loses nothing.
        if part.merge_field_names and not (audience_changed and config.is_initialized):
            mapping = {name[len("merge_"):]: data[name] for name in part.merge_field_names if data[name]}
            if mapping != chosen_map(config):  # until one is chosen, the defaults follow the audience's fields
                config.merge_field_map = mapping
                fields.append("merge_field_map")
        rules_before = rule_keys(config)
        config.customer_tag = clean_tag(data.get("customer_tag"))
        config.company_tag = clean_tag(data.get("company_tag"))
        config.tag_group_ids = sorted(int(pk) for pk in data.get("tag_groups") or []) or None
        # A rule added now back-fills the tags of older facts quietly (no tag automation): see sync.kinds.tags.
        added = rules_added(config.tag_rules_added, rules_before, rule_keys(config), timezone.now())
        if added != config.tag_rules_added:
            config.tag_rules_added = added
            fields.append("tag_rules_added")
        before = set(interest_groups(config).values_list("pk", flat=True))
        chosen = {int(pk) for pk in data.get("interest_groups") or []}
        if chosen != before:  # until groups are chosen, new groups join by themselves (built-in ones not)
            config.interest_group_ids = sorted(chosen)
            fields.append("interest_group_ids")
        check_account = data["account_changed"] or bool(config.paused_reason)
        if check_account:
            # Saving is the repair: sending resumes, and the drainer pauses again if Mailchimp still refuses.
            config.paused_reason = ""
            config.account_problem = ""
            config.account_checked_on = None
            fields += ["paused_reason", "account_problem", "account_checked_on"]
        if config.pk:
            # Only what this form edits: a Disconnect, an Initialize or a job finishing while the page was open
            # wrote other fields of the row (disconnected_on, webhook_id, ...), which a whole save would undo.
            config.save(update_fields=sorted(set(fields)))
        else:
            config.save()
        # The account check also reads the audience's merge fields (for a shop set up before they were read too).
        read_fields = data.get("read_merge_fields") or (config.audience_merge_fields is None and config.list_id)
        if (check_account or read_fields) and config.has_api_key:
            request_job(config.shop_id, JobKind.CHECK_ACCOUNT, user=self.request.user)
            schedule_delivery(config.shop_id)
        if config.is_active and not sending_before:
            schedule_delivery(config.shop_id)  # the changes recorded while nothing was sent ("Send changes" off)
        if resend_if_changed(config, member_writes_before):
            schedule_delivery(config.shop_id)
        if data.get("create_merge_fields"):
            request_job(config.shop_id, JobKind.CREATE_MERGE_FIELDS, user=self.request.user,
                        fields=sorted(data["create_merge_fields"]))
            schedule_delivery(config.shop_id)
            messages.info(self.request, _("Saved; the merge fields are being created in Mailchimp."))
        changed_groups = before ^ chosen
        if changed_groups and config.is_initialized and state.record(config.shop_id, SyncKind.GROUP, changed_groups):
            schedule_delivery(config.shop_id)  # chosen groups get their interest, the others lose it
        if data.get("initialize") or data.get("confirm_preview"):
            if is_confirmed(config, data.get("confirm_preview")):
                request_job(config.shop_id, JobKind.INITIALIZE, user=self.request.user, **config.site_params)
                messages.info(self.request, _("Saved; Mailchimp's initialization is queued. The Mailchimp status "
                                              "page shows when it is done."))
            else:
                request_preview(config, user=self.request.user)
                messages.info(self.request, _("Saved. Before the first initialization, Mailchimp is asked what it "
                                              "would do to this audience: the figures appear in the Mailchimp "
                                              "section in a moment, then confirm with \"Save and initialize as "
                                              "shown\"."))
            schedule_delivery(config.shop_id)
