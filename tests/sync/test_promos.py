"""Basket campaigns with a coupon become Mailchimp promo rules with their promo code, and follow the shop."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from shuup.campaigns.models import BasketCampaign, Coupon
from shuup.campaigns.models.basket_effects import BasketDiscountAmount, BasketDiscountPercentage
from shuup.campaigns.models.basket_line_effects import FreeProductLine
from shuup.campaigns.models.campaigns import CouponUsage
from shuup.core.models import OrderLineType, PersonContact
from shuup.core.order_creator import OrderCreator, OrderSource
from shuup.testing.factories import create_product, get_default_supplier, get_initial_order_status

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import (
    JobKind,
    LogKind,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.jobs import request_job
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.forms import form_values
from tests.helpers import batch_posts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def coupon_campaign(shop, code="SAVE10", percentage=None, amount=None, coupon_fields=None, **fields):
    """A basket campaign with a coupon and one discount, saved in one transaction as the admin's form does."""
    with transaction.atomic():
        coupon = Coupon.objects.create(code=code, active=True, shop=shop, **(coupon_fields or {}))
        values = dict(shop=shop, name="Summer", public_name="Summer sale", basket_line_text="Summer sale: 10% off",
                      active=True, coupon=coupon)
        values.update(fields)
        campaign = BasketCampaign.objects.create(**values)
        if percentage is not None:
            BasketDiscountPercentage.objects.create(campaign=campaign, discount_percentage=percentage)
        if amount is not None:
            BasketDiscountAmount.objects.create(campaign=campaign, discount_amount=amount)
    return campaign


def promo_row(campaign):
    return SyncState.objects.get(kind=SyncKind.PROMO, object_id=campaign.pk)


def rules_of(mailchimp_account, configuration):
    emulator, api_key, _list_id = mailchimp_account
    return {rule["id"]: rule for rule in emulator.promo_rules(api_key, configuration.store_id)}


def order_with_code(shop, code):
    """An order placed with the code, through Shuup's order creator (which records the coupon's use)."""
    customer = PersonContact.objects.create(first_name="Cody", email="cody@fastmail.com", marketing_permission=True)
    product = create_product("promo-sku-%s" % code, shop=shop, supplier=get_default_supplier(), default_price=50)
    source = OrderSource(shop)
    source.status = get_initial_order_status()
    source.customer = customer
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=1,
                    base_unit_price=source.create_price(50))
    source.add_code(code)
    return OrderCreator().create_order(source)


def test_a_percentage_campaign_becomes_a_rule_with_its_code(shop, configuration, mailchimp_account):
    starts = timezone.now() - timedelta(days=1)
    ends = timezone.now() + timedelta(days=30)
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"), start_datetime=starts, end_datetime=ends)
    assert promo_row(campaign).status == SyncStatus.SYNCED
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert (rule["type"], rule["amount"], rule["target"], rule["enabled"]) == ("percentage", 0.1, "total", True)
    assert rule["title"] == "Summer sale" and rule["description"] == "Summer sale: 10% off"
    assert rule["starts_at"] == starts.isoformat() and rule["ends_at"] == ends.isoformat()
    [code] = rule["promo_codes"]
    assert (code["id"], code["code"], code["usage_count"], code["enabled"]) == (
        str(campaign.coupon.pk), "SAVE10", 0, True)
    assert code["redemption_url"] == "https://%s/mailchimp/promo/?code=SAVE10" % shop.domain
    entry = MailchimpLogEntry.objects.get(action="promo.send")
    assert "'Summer'" in entry.message and "SAVE10" in entry.message


def test_the_redemption_link_opens_the_storefront_view(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    url = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"][0]["redemption_url"]
    response = Client().get(url.split(shop.domain, 1)[1])
    assert response.status_code == 302 and response["Location"].endswith("/basket/")


def test_each_shop_links_its_codes_to_its_own_storefront(settings, shop, south_and_north, mailchimp_account):
    """Two shops on different domains: each code opens its own shop, never the host of the settings every shop
    shares. A shop without a domain takes STOREFRONT_BASE_URL, then WEBHOOK_BASE_URL."""
    configuration, north_config = south_and_north
    north = north_config.shop
    south_campaign = coupon_campaign(shop, code="SOUTH", percentage=Decimal("0.1"))
    north_campaign = coupon_campaign(north, code="NORTH", percentage=Decimal("0.1"))

    def link(config, campaign):
        return rules_of(mailchimp_account, config)[str(campaign.pk)]["promo_codes"][0]["redemption_url"]

    assert link(configuration, south_campaign) == "https://south.example.com/mailchimp/promo/?code=SOUTH"
    assert link(north_config, north_campaign) == "https://north.example.com/mailchimp/promo/?code=NORTH"
    north.domain = ""
    north.save()
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL="https://www.example.org/")
    north_campaign.coupon.code = "NORTH2"
    north_campaign.coupon.save()
    assert link(north_config, north_campaign) == "https://www.example.org/mailchimp/promo/?code=NORTH2"
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL=None)
    north_campaign.coupon.code = "NORTH3"
    north_campaign.coupon.save()
    assert link(north_config, north_campaign) == "https://hooks.example.net/mailchimp/promo/?code=NORTH3"


def test_a_fixed_amount_campaign(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, amount=Decimal("5"))
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert (rule["type"], rule["amount"], rule["target"]) == ("fixed", 5.0, "total")


def test_a_fixed_amount_rounds_half_up_as_orders_do(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, code="HALF", amount=Decimal("2.675"))
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["amount"] == 2.68


def test_a_fixed_amount_keeps_the_places_of_the_shops_currency(dinar_shop, configuration, mailchimp_account):
    campaign = coupon_campaign(dinar_shop, code="DINAR", amount=Decimal("1.235"))
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["amount"] == 1.235


def test_a_public_name_renamed_outside_a_transaction_is_the_new_title(shop, configuration, mailchimp_account):
    """Parler saves the translations after the campaign's post_save: the rule may be sent before them."""
    campaign = coupon_campaign(shop, code="RENAME", percentage=Decimal("0.1"))
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["title"] == "Summer sale"
    campaign.public_name = "Winter sale"
    campaign.save()
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["title"] == "Winter sale"


def test_a_deactivated_or_ended_campaign_is_disabled(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.2"))
    campaign.active = False
    campaign.save()
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["enabled"] is False
    campaign.active = True
    campaign.end_datetime = timezone.now() - timedelta(minutes=1)  # ended now, by the admin
    campaign.save()
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert rule["enabled"] is False and rule["ends_at"] == campaign.end_datetime.isoformat()


def test_a_discount_change_is_sent(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    effect = campaign.discount_effects.get()
    effect.discount_percentage = Decimal("0.25")
    effect.save()
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["amount"] == 0.25


def test_a_coupon_change_updates_the_code(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    coupon = campaign.coupon
    coupon.code = "SUMMER"
    coupon.save()
    [code] = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"]
    assert code["code"] == "SUMMER" and code["redemption_url"].endswith("?code=SUMMER")


def test_a_new_coupon_replaces_the_old_code(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    old_coupon = campaign.coupon
    campaign.coupon = Coupon.objects.create(code="SAVE10B", active=True, shop=shop)
    campaign.save()
    [code] = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"]
    assert code["id"] == str(campaign.coupon.pk) != str(old_coupon.pk)


def test_orders_using_the_code_count_and_a_used_up_code_is_disabled(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"), coupon_fields={"usage_limit": 1})
    order = order_with_code(shop, "SAVE10")
    assert CouponUsage.objects.filter(order=order, coupon=campaign.coupon).exists()
    [code] = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"]
    assert (code["usage_count"], code["enabled"]) == (1, False)
    assert promo_row(campaign).status == SyncStatus.SYNCED


def test_a_usage_limit_of_zero_is_no_limit_as_in_shuup(shop, configuration, mailchimp_account):
    """Shuup's admin says a limit of 0 makes the code unusable, but Shuup (Coupon.exhausted) takes it without
    limit: the code stays enabled, as the shop's basket takes it."""
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"), coupon_fields={"usage_limit": 0})
    assert campaign.coupon.can_use_code(None) and not campaign.coupon.exhausted
    [code] = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"]
    assert (code["usage_count"], code["enabled"]) == (0, True)
    order = order_with_code(shop, "SAVE10")
    assert CouponUsage.objects.filter(order=order, coupon=campaign.coupon).exists(), "Shuup took the code"
    [code] = rules_of(mailchimp_account, configuration)[str(campaign.pk)]["promo_codes"]
    assert (code["usage_count"], code["enabled"]) == (1, True)


def test_a_deleted_campaign_is_deleted_with_its_code(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    kept = coupon_campaign(shop, code="KEEP", amount=Decimal("3"))
    campaign.delete()
    assert set(rules_of(mailchimp_account, configuration)) == {str(kept.pk)}
    assert not SyncState.objects.filter(kind=SyncKind.PROMO, object_id=campaign.pk).exists()
    assert MailchimpLogEntry.objects.filter(action="promo.delete").count() == 1


def test_deleting_the_coupon_deletes_the_rule(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    campaign.coupon.delete()  # takes its campaign with it
    assert rules_of(mailchimp_account, configuration) == {}


def test_a_campaign_without_coupon_is_not_a_promo(shop, configuration, mailchimp_account):
    campaign = BasketCampaign.objects.create(shop=shop, name="Everyone", public_name="Everyone", active=True)
    BasketDiscountAmount.objects.create(campaign=campaign, discount_amount=Decimal("1"))
    assert not SyncState.objects.filter(kind=SyncKind.PROMO).exists()
    assert rules_of(mailchimp_account, configuration) == {}


def test_a_discount_mailchimp_cannot_describe_is_not_sent_and_logged(shop, configuration, mailchimp_account):
    campaign = coupon_campaign(shop, code="FREEMUG")
    FreeProductLine.objects.create(campaign=campaign).products.add(
        create_product("mug", shop=shop, supplier=get_default_supplier(), default_price=5))
    row = promo_row(campaign)
    assert row.status == SyncStatus.SKIPPED and "free products" in row.last_error
    assert rules_of(mailchimp_account, configuration) == {}
    entry = MailchimpLogEntry.objects.filter(action="promo.skip").latest("id")
    assert entry.kind == LogKind.WARNING and "'Summer'" in entry.message


def test_a_sent_campaign_that_mailchimp_can_no_longer_describe_is_taken_out(shop, configuration,
                                                                            mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    BasketDiscountAmount.objects.create(campaign=campaign, discount_amount=Decimal("2"))  # a second effect
    assert rules_of(mailchimp_account, configuration) == {}
    assert "several discount effects" in promo_row(campaign).last_error
    BasketDiscountAmount.objects.filter(campaign=campaign).delete()
    assert str(campaign.pk) in rules_of(mailchimp_account, configuration), "sent again as it was before"


def test_a_code_text_mailchimp_already_has_fails_that_campaign_alone(admin_client, shop, configuration,
                                                                    mailchimp_account):
    """Shuup lets inactive campaigns share a code; a Mailchimp store does not. The failed items page names the
    campaign, links to it and says what to check."""
    first = coupon_campaign(shop, percentage=Decimal("0.1"), active=False)
    second = coupon_campaign(shop, code="SAVE10", amount=Decimal("5"), active=False)
    assert promo_row(first).status == SyncStatus.SYNCED
    row = promo_row(second)
    assert row.status == SyncStatus.FAILED and "already exists" in row.last_error
    configuration.refresh_from_db()
    assert configuration.paused_reason == ""
    html = admin_client.get(reverse("shuup_admin:shoop_mailchimp.failed")).content.decode()
    edit_url = reverse("shuup_admin:basket_campaign.edit", kwargs={"pk": second.pk})
    assert '<a href="%s">Summer</a>' % edit_url in html
    assert "Check the campaign&#39;s coupon code" in html


def test_sync_existing_sends_coupon_campaigns_made_before_the_connection(shop, fresh_configuration,
                                                                         mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))  # Mailchimp not initialized yet: not recorded
    assert not SyncState.objects.filter(kind=SyncKind.PROMO).exists()
    initialize(fresh_configuration)
    emulator = mailchimp_account[0]
    emulator.clear_requests()
    job = request_job(shop.pk, JobKind.SYNC_EXISTING)
    run_due_work(shop.pk)
    job.refresh_from_db()
    assert "1 coupon campaign queued as a promo code." in job.message
    assert bulk.resume_batches(shop.pk, poll_interval=0.05, timeout=30) == 0
    assert promo_row(campaign).status == SyncStatus.SYNCED
    [code] = rules_of(mailchimp_account, fresh_configuration)[str(campaign.pk)]["promo_codes"]
    assert (code["code"], code["redemption_url"]) == ("SAVE10", "https://%s/mailchimp/promo/?code=SAVE10" % shop.domain)
    assert not [r for r in emulator.requests if "/promo-" in r["path"]], "in batches, not one by one"
    assert len(batch_posts(emulator)) == 2, "the rule, then its code"
    campaign.coupon.code = "SAVE11"
    campaign.coupon.save()  # sent before: updated one by one
    [code] = rules_of(mailchimp_account, fresh_configuration)[str(campaign.pk)]["promo_codes"]
    assert code["code"] == "SAVE11"


def test_the_sync_command_sends_coupon_campaigns_too(shop, fresh_configuration, mailchimp_account):
    """``manage.py mailchimp_sync --existing`` (bulk.sync_existing) takes the same path as the admin's button."""
    campaign = coupon_campaign(shop, amount=Decimal("5"))
    initialize(fresh_configuration)
    report = bulk.sync_existing(shop.pk, poll_interval=0.05, timeout=30)
    assert report["promo synced"] == 1 and promo_row(campaign).status == SyncStatus.SYNCED
    assert [code["code"] for code in rules_of(mailchimp_account, fresh_configuration)[str(campaign.pk)][
        "promo_codes"]] == ["SAVE10"]


def test_sync_existing_leaves_a_rule_mailchimp_already_has_to_the_one_by_one_path(shop, configuration,
                                                                                  mailchimp_account):
    """A campaign the sync forgot but Mailchimp has: its batch is refused with "already exists", and the
    drainer updates the rule and its code."""
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    promo_row(campaign).delete()
    BasketDiscountPercentage.objects.filter(campaign=campaign).update(discount_percentage=Decimal("0.2"))
    request_job(shop.pk, JobKind.SYNC_EXISTING)
    run_due_work(shop.pk)
    assert bulk.resume_batches(shop.pk, poll_interval=0.05, timeout=30) == 0
    row = promo_row(campaign)
    assert row.status == SyncStatus.PENDING and "already exists" in row.last_error
    SyncState.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # its backoff over
    run_due_work(shop.pk)
    assert promo_row(campaign).status == SyncStatus.SYNCED
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert rule["amount"] == 0.2 and [code["code"] for code in rule["promo_codes"]] == ["SAVE10"]


def test_a_store_created_again_gets_its_promo_codes_again(shop, configuration, mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"))
    emulator.delete_store(api_key, configuration.store_id)
    initialize(MailchimpConfiguration.objects.get(pk=configuration.pk))
    run_due_work(shop.pk)
    [rule] = emulator.promo_rules(api_key, configuration.store_id)
    assert rule["id"] == str(campaign.pk) and [code["code"] for code in rule["promo_codes"]] == ["SAVE10"]


def test_a_campaign_made_in_shuups_admin_is_sent_and_follows_its_edits(admin_client, shop, configuration,
                                                                     mailchimp_account):
    """The shop owner's way: a coupon, then a campaign with it, then its discount on the campaign's page."""
    created = admin_client.post(reverse("shuup_admin:coupon.new"), {"code": "ADMIN15", "active": "on",
                                                                    "shop": shop.pk})
    assert created.status_code == 302
    coupon = Coupon.objects.get(code="ADMIN15")
    created = admin_client.post(reverse("shuup_admin:basket_campaign.new"), {
        "base-shop": shop.pk, "base-name": "Autumn", "base-public_name__en": "Autumn sale",
        "base-basket_line_text": "15% off", "base-coupon": coupon.pk, "base-active": "on"})
    assert created.status_code == 302
    campaign = BasketCampaign.objects.get(coupon=coupon)
    assert "no discount" in promo_row(campaign).last_error, "a campaign without its discount yet is left out"
    edit_url = reverse("shuup_admin:basket_campaign.edit", kwargs={"pk": campaign.pk})
    values = {name: value for name, value in form_values(admin_client.get(edit_url).content.decode(),
                                                         "campaign_form").items() if "__prefix__" not in name}
    values.update({"effects_basketdiscountpercentage-TOTAL_FORMS": "1",
                   "effects_basketdiscountpercentage-0-campaign": str(campaign.pk),
                   "effects_basketdiscountpercentage-0-discount_percentage": "15",
                   "effects_basketdiscountpercentage-0-id": ""})
    assert admin_client.post(edit_url, values).status_code == 302
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert (rule["title"], rule["type"], rule["amount"], rule["enabled"]) == ("Autumn sale", "percentage", 0.15, True)
    assert [code["code"] for code in rule["promo_codes"]] == ["ADMIN15"]
    values = {name: value for name, value in form_values(admin_client.get(edit_url).content.decode(),
                                                         "campaign_form").items() if "__prefix__" not in name}
    del values["base-active"]
    assert admin_client.post(edit_url, values).status_code == 302
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["enabled"] is False


def test_a_campaign_that_reaches_its_end_is_disabled_by_the_scheduled_reconciliation(shop, configuration,
                                                                                    mailchimp_account):
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"), end_datetime=timezone.now() + timedelta(days=1))
    assert rules_of(mailchimp_account, configuration)[str(campaign.pk)]["enabled"] is True
    # Its end comes (no save: nothing in the shop tells the sync) ...
    ended_at = timezone.now()
    BasketCampaign.objects.filter(pk=campaign.pk).update(end_datetime=ended_at)
    # ... and the next scheduled reconciliation queues it.
    request_job(shop.pk, JobKind.RECONCILE, full=False)
    run_due_work(shop.pk)
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert rule["enabled"] is False and rule["ends_at"] == ended_at.isoformat()
    assert promo_row(campaign).status == SyncStatus.SYNCED


def test_an_end_taken_off_the_campaign_is_taken_off_the_rule(shop, configuration, mailchimp_account):
    """Mailchimp keeps a field a PATCH leaves out: the rule is created again without it, with its code."""
    campaign = coupon_campaign(shop, percentage=Decimal("0.1"), end_datetime=timezone.now() + timedelta(days=3))
    campaign.end_datetime = None
    campaign.save()
    rule = rules_of(mailchimp_account, configuration)[str(campaign.pk)]
    assert "ends_at" not in rule
    assert [code["code"] for code in rule["promo_codes"]] == ["SAVE10"]


def codes_in_mailchimp(mailchimp_account, configuration):
    """{code text: the rule holding it}."""
    emulator, api_key, _list_id = mailchimp_account
    return {code["code"]: rule for rule in emulator.promo_rules(api_key, configuration.store_id)
            for code in rule["promo_codes"]}


def test_a_code_of_an_ended_campaign_reused_by_a_live_one_reaches_mailchimp(shop, configuration, mailchimp_account):
    """Last summer's SUMMER campaign is switched off; this summer's reuses the code (Shuup allows it: only active
    campaigns may not share a code). The live campaign's code is the one shoppers get: Mailchimp has it under the
    live rule, taken from the dead one's (a store's code texts are unique, as the emulator checks)."""
    last_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.1"))
    assert promo_row(last_year).status == SyncStatus.SYNCED
    last_year.active = False
    last_year.save()
    this_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.15"))
    row = promo_row(this_year)
    assert row.status == SyncStatus.SYNCED, row.last_error
    assert codes_in_mailchimp(mailchimp_account, configuration)["SUMMER"]["id"] == str(this_year.pk)
    # The dead campaign sent again later (its coupon edited; Shuup refuses to save the campaign itself) goes
    # without the code the live one holds.
    last_year.coupon.usage_limit = 5
    last_year.coupon.save()
    assert promo_row(last_year).status == SyncStatus.SYNCED, promo_row(last_year).last_error
    rules = rules_of(mailchimp_account, configuration)
    assert rules[str(last_year.pk)]["enabled"] is False
    assert codes_in_mailchimp(mailchimp_account, configuration)["SUMMER"]["id"] == str(this_year.pk)


@pytest.mark.parametrize("detail", [
    "A promo code with the code 'SUMMER' already exists in this store.",
    "The promo code 'SUMMER' is a duplicate code for this store.",
    "Duplicate promo code: the code SUMMER is already in use.",
])
def test_a_code_taken_is_recognised_by_mailchimps_answer_whatever_its_wording(shop, configuration,
                                                                             mailchimp_account, detail):
    """Mailchimp's 400 "Invalid Resource" names the code as a duplicate; its wording is not documented (see
    docs/promos.rst): the live campaign takes the code from the dead one's rule on any such wording."""
    emulator = mailchimp_account[0]
    last_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.1"))
    last_year.active = False
    last_year.save()
    emulator.faults.fail("*/promo-codes", status=400, method="POST", times=1, title="Invalid Resource",
                         detail=detail)
    this_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.15"))
    row = promo_row(this_year)
    assert row.status == SyncStatus.SYNCED, row.last_error
    assert codes_in_mailchimp(mailchimp_account, configuration)["SUMMER"]["id"] == str(this_year.pk)


@pytest.mark.parametrize("status, title, detail, errors, taken", [
    (400, "Invalid Resource", "A promo code with the code 'X' already exists in this store.", None, True),
    (400, "Invalid Resource", "The resource submitted could not be validated.",
     [{"field": "code", "message": "This code is already in use."}], True),
    (400, "Invalid Resource", "A promo code for store 's' with the id '7' already exists.", None, False),
    (400, "Invalid Resource", "A promo rule for store 's' with the id '7' already exists.", None, False),
    (400, "Invalid Resource", "The resource submitted could not be validated.",
     [{"field": "redemption_url", "message": "A duplicate code URL."}], False),
    (500, "Internal Server Error", "A promo code with the code 'X' already exists.", None, False),
    (400, "Forbidden", "A promo code with the code 'X' already exists.", None, False),
])
def test_promo_code_taken_reads_the_problem(status, title, detail, errors, taken):
    from shoop_mailchimp.mailchimp.errors import error_from_status, promo_code_taken

    problem = {"title": title, "status": status, "detail": detail}
    if errors:
        problem["errors"] = errors
    assert promo_code_taken(error_from_status(status, problem, "POST", "/x")) is taken


def unrecorded_coupon_campaign(shop, **kwargs):
    """A coupon campaign the sync has never seen (as one made before the shop was connected)."""
    with transaction.atomic():
        campaign = coupon_campaign(shop, **kwargs)
        SyncState.objects.filter(kind=SyncKind.PROMO, object_id=campaign.pk).delete()
    return campaign


def assert_synced_in_batches(shop, emulator, campaign):
    """Sync existing, from a cleared request log: every batch done, and the campaign's row synced."""
    emulator.clear_requests()
    request_job(shop.pk, JobKind.SYNC_EXISTING)
    run_due_work(shop.pk)
    assert bulk.resume_batches(shop.pk, poll_interval=0.05, timeout=30) == 0
    row = promo_row(campaign)
    assert row.status == SyncStatus.SYNCED, row.last_error


def test_sync_existing_moves_a_code_from_a_dead_campaigns_rule_to_the_live_one(shop, configuration,
                                                                              mailchimp_account):
    """The bulk path does what the one-by-one path does: last summer's switched-off campaign holds SUMMER in
    Mailchimp; this summer's, never sent, gets the code through batches (rules, codes, the dead rule's code
    deleted, the code again), with no request of its own."""
    emulator = mailchimp_account[0]
    last_year = coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.1"))
    last_year.active = False
    last_year.save()
    assert codes_in_mailchimp(mailchimp_account, configuration)["SUMMER"]["id"] == str(last_year.pk)
    this_year = unrecorded_coupon_campaign(shop, code="SUMMER", percentage=Decimal("0.15"))
    assert_synced_in_batches(shop, emulator, this_year)
    assert codes_in_mailchimp(mailchimp_account, configuration)["SUMMER"]["id"] == str(this_year.pk)
    assert rules_of(mailchimp_account, configuration)[str(last_year.pk)]["promo_codes"] == []
    assert not [r for r in emulator.requests if "/promo-" in r["path"]], "in batches, not one by one"
    assert len(batch_posts(emulator)) == 4


def test_sync_existing_leaves_a_dead_campaign_without_the_code_a_live_one_holds(shop, configuration,
                                                                             mailchimp_account):
    emulator = mailchimp_account[0]
    dead = unrecorded_coupon_campaign(shop, code="WINTER", percentage=Decimal("0.2"), active=False)
    live = coupon_campaign(shop, code="WINTER", percentage=Decimal("0.1"))
    assert_synced_in_batches(shop, emulator, dead)
    rules = rules_of(mailchimp_account, configuration)
    assert rules[str(dead.pk)]["enabled"] is False and rules[str(dead.pk)]["promo_codes"] == []
    assert codes_in_mailchimp(mailchimp_account, configuration)["WINTER"]["id"] == str(live.pk)
    assert not [r for r in emulator.requests if "/promo-" in r["path"]]
