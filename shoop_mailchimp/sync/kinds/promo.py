"""Where a Shuup basket campaign with a coupon becomes a Mailchimp promo rule, and its coupon the rule's promo
code: what Mailchimp's promo code blocks show in e-mails, with a link that puts the code in the shopper's
basket. Kept in step with the campaign, its discount, its coupon and the coupon's uses; a campaign deleted,
or left without a coupon, is deleted in Mailchimp with its code.

A Mailchimp promo rule describes one discount: a fixed amount or a percentage, off the total, each item or
the shipping. Shuup's campaigns can do more (free products, discounts on chosen products or a category, a
percentage of part of the basket, several effects at once): such a campaign is not sent, its rule is taken
out of Mailchimp if it was there, and the log says why. A campaign's conditions (a minimum basket, a
customer group) decide who may use the code; Mailchimp's rule has no place for them.
"""
import hashlib
import json
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ugettext_lazy
from shuup.campaigns.models import BasketCampaign
from shuup.campaigns.models.basket_effects import BasketDiscountAmount, BasketDiscountPercentage
from shuup.campaigns.models.campaigns import CouponUsage

from shoop_mailchimp.mailchimp import batches, errors
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound, promo_code_taken
from shoop_mailchimp.mailchimp.resources import promo_code_path, promo_rule_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import SyncKind, SyncState, SyncStatus
from shoop_mailchimp.shops import shop_storefront_url
from shoop_mailchimp.sync.batch_phase import BatchPhase, operation_failed, result_outcome
from shoop_mailchimp.sync.kinds.declarations import APART, AS_NEW, RESEND, AdminItem
from shoop_mailchimp.sync.kinds.fields import currency_places, money, plain_text
from shoop_mailchimp.sync.outcome import Outcome, Result

KIND = SyncKind.PROMO
#: How the admin names the kind and a failed item of it.
ADMIN = AdminItem(
    title=ugettext_lazy("Promo codes"),
    model=BasketCampaign,
    label=lambda campaign: campaign.name,
    advice=ugettext_lazy(
        "Check the campaign's coupon code (Mailchimp takes each code once per store, also from inactive "
        "campaigns), then press %(button)s."),
)

#: "Sync existing" sends them apart from the import (a promo rule triggers no e-mail); a store created again gets
#: them as never sent; their redemption links name the storefront.
SYNC_EXISTING = APART
FOR_NEW_STORE = AS_NEW
ON_DOMAIN_CHANGE = RESEND

#: The storefront view a promo code's redemption link opens (see :mod:`shoop_mailchimp.storefront.views`).
REDEEM_VIEW_NAME = "shuup:shoop_mailchimp_promo_redeem"
#: Mailchimp's maximum lengths, in bytes.
MAX_TITLE = 100
MAX_DESCRIPTION = 255


class Inexpressible(Exception):
    """The campaign's discount is not one a Mailchimp promo rule can describe."""


class Unsendable(Exception):
    """Something the shop must set first (its public address) before a code can be sent."""


def log_target(object_id):
    """A campaign's entries name no contact or order: the message names the campaign."""
    return {}


def rule_id_for(campaign_id):
    return str(campaign_id)


def _clip(text, limit):
    """``text`` cut to ``limit`` UTF-8 bytes, without splitting a character."""
    return (text or "").strip().encode("utf-8")[:limit].decode("utf-8", "ignore").strip()


def _text(value, limit):
    """A campaign's text as a rule's title or description: plain text (markup left out, entities read, one
    line), at most ``limit`` UTF-8 bytes. Mailchimp puts the rule's title and description into e-mails' promo
    blocks; Shuup shows a campaign's names as text (escaped), so markup in them is never meant to be markup,
    and an e-mail must not get it as markup (a ``<script>``, an ``<img onerror>``) or as visible tags."""
    return _clip(plain_text(value, limit), limit)


def discount(campaign):
    """``(type, amount)`` of the campaign's discount as a Mailchimp rule has it; raises Inexpressible."""
    effects = list(campaign.discount_effects.all())
    if list(campaign.line_effects.all()):
        raise Inexpressible("it gives free products or a discount on chosen products or a category, which a "
                            "Mailchimp promo rule cannot describe")
    if not effects:
        raise Inexpressible("it gives no discount on the basket")
    if len(effects) > 1:
        raise Inexpressible("it has several discount effects, and a Mailchimp promo rule describes one discount")
    effect = effects[0]
    if isinstance(effect, BasketDiscountAmount):
        if not effect.discount_amount or effect.discount_amount <= 0:
            raise Inexpressible("its discount amount is not set")
        # Rounded as orders are: half up, to the decimal places of the shop's currency.
        return "fixed", money(effect.discount_amount, currency_places(campaign.shop.currency))
    if isinstance(effect, BasketDiscountPercentage):
        if not effect.discount_percentage or effect.discount_percentage <= 0:
            raise Inexpressible("its discount percentage is not set")
        if campaign.supplier_id:
            raise Inexpressible("its percentage is taken of one supplier's products only, not of the total")
        # Shuup never takes off more than the products cost: above 100 % is 100 %.
        return "percentage", min(1.0, round(float(effect.discount_percentage), 5))
    raise Inexpressible("its discount (%s) is not a fixed amount or a percentage of the total" % effect.name)


def is_enabled(campaign, now):
    return bool(campaign.active) and not (campaign.end_datetime and campaign.end_datetime < now)


def rule_payload(campaign, now):
    kind, amount = discount(campaign)
    starts, ends = campaign.start_datetime, campaign.end_datetime
    if starts and ends and ends <= starts:
        raise Inexpressible("it ends before it starts")
    title = (_text(campaign.safe_translation_getter("public_name", any_language=True), MAX_TITLE)
             or _text(campaign.name, MAX_TITLE) or "Campaign %s" % campaign.pk)
    rule = {
        "id": rule_id_for(campaign.pk),
        "title": title,
        "description": _text(campaign.basket_line_text, MAX_DESCRIPTION) or title,
        "amount": amount,
        "type": kind,
        "target": "total",
        "enabled": is_enabled(campaign, now),
        "created_at_foreign": campaign.created_on.isoformat(),
    }
    if starts:
        rule["starts_at"] = starts.isoformat()
    if ends:
        rule["ends_at"] = ends.isoformat()
    return rule


def redemption_url(shop, code):
    url = shop_storefront_url(shop, "%s?%s" % (reverse(REDEEM_VIEW_NAME), urlencode({"code": code})))
    if not url:
        raise Unsendable("the shop's public address is unknown, and a promo code needs a link that applies it: "
                         "set the shop's domain, or SHOOP_MAILCHIMP['STOREFRONT_BASE_URL']")
    return url


def code_payload(campaign, usage_count):
    coupon = campaign.coupon
    # As Shuup's Coupon.exhausted has it: no limit, or a limit of 0 (despite the admin's help text, Shuup then
    # takes the code without limit), never runs out.
    exhausted = bool(coupon.usage_limit and usage_count >= coupon.usage_limit)
    return {
        "id": str(coupon.pk),
        "code": coupon.code,
        "redemption_url": redemption_url(campaign.shop, coupon.code),
        "usage_count": usage_count,
        "enabled": bool(coupon.active) and not exhausted,
        "created_at_foreign": coupon.created_on.isoformat(),
    }


def unsent_ids(shop_id):
    """The shop's coupon campaigns the sync has never seen (no sync-state row): "sync existing" queues them."""
    known = SyncState.objects.filter(shop_id=shop_id, kind=KIND).values("object_id")
    return BasketCampaign.objects.filter(shop_id=shop_id, coupon__isnull=False).exclude(
        pk__in=known).values_list("pk", flat=True)


def ended_since_sent(shop_id, now=None):
    """Active campaigns whose end came after their last send. Nothing in the shop changes at that moment, so
    the scheduled reconciliation queues them, and their rule is sent again disabled."""
    now = now or timezone.now()
    sent = dict(SyncState.objects.filter(shop_id=shop_id, kind=KIND, status=SyncStatus.SYNCED,
                                         last_synced_at__isnull=False).values_list("object_id", "last_synced_at"))
    ended = BasketCampaign.objects.filter(pk__in=list(sent), active=True, end_datetime__lte=now).values_list(
        "pk", "end_datetime")
    return [campaign_id for campaign_id, end in ended if sent[campaign_id] < end]


class Context:
    """The rows' campaigns with their coupons, effects and shop, and how often each coupon was used."""

    def __init__(self, configuration, rows):
        ids = [row.object_id for row in rows]
        self.campaigns = BasketCampaign.objects.filter(pk__in=ids).select_related("coupon", "shop").prefetch_related(
            "discount_effects", "line_effects", "translations").in_bulk()
        self.usage_counts = dict(CouponUsage.objects.filter(coupon__campaign__in=ids).values("coupon_id").annotate(
            count=Count("pk")).values_list("coupon_id", "count"))
        self.now = timezone.now()


def load(configuration, rows):
    return Context(configuration, rows)


def plan(configuration, row, context):
    campaign = context.campaigns.get(row.object_id)
    if campaign is None:
        return RemovalPlan(configuration, row, "its campaign was deleted", Outcome.removed())
    if campaign.shop_id != configuration.shop_id:
        return RemovalPlan(configuration, row, "its campaign moved to another shop", Outcome.removed())
    if campaign.coupon is None:
        return RemovalPlan(configuration, row, "its campaign no longer has a coupon", Outcome.removed())
    try:
        promo_plan = PromoPlan(configuration, row, campaign, context)
    except Inexpressible as reason:
        skipped = Outcome.skipped("coupon campaign %r: %s." % (campaign.name, reason))
        skipped.facts = {"fingerprint": ""}  # its rule is gone: the same data is sent again when it can be
        return RemovalPlan(configuration, row, "its campaign can no longer be described in Mailchimp", skipped)
    except Unsendable as reason:
        return Outcome.skipped(str(reason))
    return Outcome.unchanged() if promo_plan.fingerprint == row.fingerprint else promo_plan


class RemovalPlan:
    """The campaign's rule (with its code) out of Mailchimp, wherever it was; then ``outcome``."""

    #: Promotions are few: one by one.
    batchable = False

    def __init__(self, configuration, row, reason, outcome):
        self.configuration = configuration
        self.row = row
        self.reason = reason
        self.outcome = outcome

    def run(self, log):
        rule_id = rule_id_for(self.row.object_id)
        try:
            yield Operation("DELETE", promo_rule_path(self.configuration.store_id, rule_id))
        except MailchimpNotFound:
            return self.outcome  # never sent, or deleted in Mailchimp: nothing to take out
        log("promo.delete", "Promo rule %s and its code deleted: %s" % (rule_id, self.reason))
        return self.outcome


class PromoPlan:
    """What one campaign's delivery sends: its rule, then its code (and no other code under the rule)."""

    def __init__(self, configuration, row, campaign, context):
        self.configuration = configuration
        self.row = row
        self.campaign = campaign
        self.rule = rule_payload(campaign, context.now)
        self.code = code_payload(campaign, context.usage_counts.get(campaign.coupon_id, 0))
        self.fingerprint = hashlib.sha256(json.dumps([self.rule, self.code], sort_keys=True).encode(
            "utf-8")).hexdigest()

    @property
    def batchable(self):
        """A campaign never sent goes in a bulk sync's batch (its rule, then its code); one sent before is
        updated one by one (its old codes are looked up first)."""
        return not self.row.last_synced_at

    def run(self, log):
        store_id = self.configuration.store_id
        rule, code = self.rule, self.code
        created = yield from self._send_rule(store_id)
        try:
            if created:
                yield Operation("POST", promo_code_path(store_id, rule["id"]), code)
            else:
                yield from self._replace_code(store_id, rule["id"], code)
        except MailchimpAPIError as error:
            if not promo_code_taken(error):
                raise
            # A store's code texts are unique, and Shuup lets a new campaign reuse the code of one no longer
            # active: the live campaign's code is the one shoppers get.
            rivals = self._rivals()
            if not rule["enabled"] and any(is_enabled(rival, timezone.now()) for rival in rivals):
                log("promo.send", "Coupon campaign %r sent as a disabled promo rule without its code %s: a live "
                    "campaign uses that code" % (self.campaign.name, code["code"]))
                return Outcome.synced(fingerprint=self.fingerprint)
            if not rule["enabled"] or not rivals:
                raise
            for rival in rivals:  # none is live: Shuup allows a code to only one active campaign
                try:
                    yield Operation("DELETE", promo_code_path(store_id, rule_id_for(rival.pk), str(rival.coupon_id)))
                except MailchimpNotFound:
                    continue
                log("promo.delete", "Promo code %s taken from the rule of coupon campaign %r (%s), which is no "
                    "longer live: campaign %r uses it now" % (code["code"], rival.name, rule_id_for(rival.pk),
                                                               self.campaign.name))
            yield Operation("POST", promo_code_path(store_id, rule["id"]), code)
        log("promo.send", "Coupon campaign %r sent as a %s promo rule with code %s (used %d %s)%s" % (
            self.campaign.name, rule["type"], code["code"], code["usage_count"],
            "time" if code["usage_count"] == 1 else "times", "" if rule["enabled"] else ", disabled"))
        return Outcome.synced(fingerprint=self.fingerprint)

    def _send_rule(self, store_id):
        """Create or update the rule; returns whether it was created (and has no code yet)."""
        rule = self.rule
        if not self.row.last_synced_at:
            try:
                yield Operation("POST", promo_rule_path(store_id), rule)
                return True
            except MailchimpAPIError as error:
                if not errors.already_exists(error):
                    raise
        try:
            answer = yield Operation("PATCH", promo_rule_path(store_id, rule["id"]),
                                     {key: value for key, value in rule.items() if key != "id"})
        except MailchimpNotFound:
            yield Operation("POST", promo_rule_path(store_id), rule)
            return True
        if any(name not in rule and (answer or {}).get(name) for name in ("starts_at", "ends_at")):
            # Mailchimp keeps what a PATCH leaves out: a start or an end taken off the campaign is cleared by
            # creating the rule again (its code goes with the old one).
            yield Operation("DELETE", promo_rule_path(store_id, rule["id"]))
            yield Operation("POST", promo_rule_path(store_id), rule)
            return True
        return False

    def _rivals(self):
        """The shop's other campaigns whose coupon has this campaign's code text (Shuup allows it where at most
        one of them is active)."""
        return list(BasketCampaign.objects.filter(shop_id=self.campaign.shop_id, coupon__code=self.code["code"])
                    .exclude(pk=self.campaign.pk).select_related("coupon"))

    def _replace_code(self, store_id, rule_id, code):
        """The rule existed: its code is updated, and a code of an earlier coupon of the campaign deleted
        first (a store's code texts are unique: the new coupon may reuse the old one's)."""
        answer = yield Operation("GET", promo_code_path(store_id, rule_id), params={
            "count": 1000, "fields": "promo_codes.id"})
        existing = {item["id"] for item in (answer or {}).get("promo_codes", [])}
        for old_id in sorted(existing - {code["id"]}):
            try:
                yield Operation("DELETE", promo_code_path(store_id, rule_id, old_id))
            except MailchimpNotFound:
                pass
        if code["id"] in existing:
            yield Operation("PATCH", promo_code_path(store_id, rule_id, code["id"]),
                            {key: value for key, value in code.items() if key != "id"})
        else:
            yield Operation("POST", promo_code_path(store_id, rule_id), code)


# In a batch (sync.bulk: "Sync existing") ----------------------------------------------------------------
# Rules first; then the codes of the rules Mailchimp took (a batch's operations run in no set order). A code
# Mailchimp refuses as taken is handled as the one-by-one path handles it (:meth:`PromoPlan.run`): a live
# campaign's code is deleted from the rules of the shop's other campaigns with that code text (none of them
# live), in a third phase, and created under the live rule in a fourth; a campaign that is not live, while a
# live one holds its code, is left as its disabled rule without the code.


def _already_exists(result):
    error = batches.error_of(result)
    return errors.already_exists(error)


def _build_rules(configuration, pairs, rows, sent):
    operations = []
    for row, plan in pairs:
        operations.append(batches.encode(Operation("POST", promo_rule_path(configuration.store_id), plan.rule),
                                         "r:%d:rule" % row.id))
        sent[str(row.id)] = {"code": plan.code, "fingerprint": plan.fingerprint, "enabled": plan.rule["enabled"],
                             "campaign": plan.campaign.pk, "shop": plan.campaign.shop_id}
    return operations


def _read_rules(configuration, row, results, facts):
    result = results.get("rule")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this promo rule")
    if not operation_failed(result):
        return None  # its code, in the next phase
    outcome = result_outcome(result, "promo rule")
    if _already_exists(result):
        outcome.result = Result.RETRY  # Mailchimp has the rule: the one-by-one path updates it and its code
    return outcome


def _build_codes(configuration, pairs, rows, sent):
    return [batches.encode(Operation("POST", promo_code_path(configuration.store_id, rule_id_for(row.object_id)),
                                     sent[str(row.id)]["code"]), "r:%d:code" % row.id)
            for row in rows if str(row.id) in sent]


def _rival_codes(facts):
    """[(rule id, code id, live)] of the shop's other campaigns whose coupon has this code's text."""
    now = timezone.now()
    rivals = BasketCampaign.objects.filter(shop_id=facts.get("shop"), coupon__code=facts["code"]["code"]).exclude(
        pk=facts.get("campaign")).select_related("coupon")
    return [(rule_id_for(rival.pk), str(rival.coupon_id), is_enabled(rival, now)) for rival in rivals]


def _read_codes(configuration, row, results, facts):
    result = results.get("code")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this promo code")
    if not operation_failed(result):
        return Outcome.synced(fingerprint=facts["fingerprint"])
    if "campaign" in facts and promo_code_taken(batches.error_of(result)):
        rivals = _rival_codes(facts)
        if not facts["enabled"] and any(live for _rule, _code, live in rivals):
            return Outcome.synced(fingerprint=facts["fingerprint"])  # a live campaign holds the code
        if facts["enabled"] and rivals and not any(live for _rule, _code, live in rivals):
            facts["take_from"] = [[rule_id, code_id] for rule_id, code_id, _live in rivals]
            return None  # the code is taken from their rules in the next phase, then created under this one
    return result_outcome(result, "promo code")


def _build_take(configuration, pairs, rows, sent):
    operations = []
    for row in rows:
        for position, (rule_id, code_id) in enumerate((sent.get(str(row.id)) or {}).get("take_from") or ()):
            operations.append(batches.encode(Operation("DELETE", promo_code_path(
                configuration.store_id, rule_id, code_id)), "r:%d:take%d" % (row.id, position)))
    return operations


def _read_take(configuration, row, results, facts):
    if not facts or not facts.get("take_from"):
        return Outcome(Result.RETRY, "no batch result for this promo code")
    for position in range(len(facts["take_from"])):
        result = results.get("take%d" % position)
        if result is None:
            return Outcome(Result.RETRY, "no batch result for this promo code")
        if operation_failed(result) and not batches.operation_not_found(result):  # not there: nothing to take
            return result_outcome(result, "promo code of another rule")
    return None  # the code, created under this rule in the next phase


def _build_retake(configuration, pairs, rows, sent):
    return [batches.encode(Operation("POST", promo_code_path(configuration.store_id, rule_id_for(row.object_id)),
                                     sent[str(row.id)]["code"]), "r:%d:retake" % row.id)
            for row in rows if str(row.id) in sent]


def _read_retake(configuration, row, results, facts):
    result = results.get("retake")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this promo code")
    if operation_failed(result):
        return result_outcome(result, "promo code")
    return Outcome.synced(fingerprint=facts["fingerprint"])


BATCH_PHASES = (BatchPhase(_build_rules, _read_rules, plans=True), BatchPhase(_build_codes, _read_codes),
                BatchPhase(_build_take, _read_take), BatchPhase(_build_retake, _read_retake))
