"""``DEMO_WALK=1 make demo``: the whole story without a browser, checked at the end.

Configure and initialize, create contacts with and without consent in groups, place an order
without ticking the marketing box (then pay, ship and partly refund it), change group memberships,
withdraw one consent in the shop, unsubscribe one person in Mailchimp and save them again, drain the
queue, unsubscribe another by hand in Mailchimp (no webhook) and reconcile, add a product with a
picture and a variant, order with a coupon, then compare what the emulator holds with what the shop
holds. Exit status 0 only if they agree.
"""
import os
import secrets

from demo.run import (
    VAR_DIR,
    configure_shop,
    drain,
    lenient_rules,
    mailchimp_interest_ids,
    missing_interests,
    prepare_database,
    say,
    setup_django,
)


class Person:
    def __init__(self, key, first, permission, groups=(), note=""):
        self.key, self.first, self.permission, self.groups, self.note = key, first, permission, groups, note
        self.contact = None
        self.expected_status = None


def walk():
    from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID, Emulator

    emulator = Emulator(rules_off=lenient_rules())
    api_key = emulator.add_account(DEMO_API_KEY)
    list_id = emulator.add_list(api_key, "Demo audience", DEMO_LIST_ID)
    emulator.start()
    try:
        setup_django(os.path.join(VAR_DIR, "demo-walk.sqlite3"), emulator.base_url)
        say("Mailchimp emulator (in-process) at %s" % emulator.base_url)
        prepare_database()
        return run_story(emulator, api_key, list_id)
    finally:
        emulator.stop()


def step(number, text):
    say("%s. %s" % (number, text))


def run_story(emulator, api_key, list_id):
    from shuup.core.models import ContactGroup, PersonContact
    from shuup.testing import factories

    differences = []
    token = secrets.token_hex(3)

    step(1, "Configure the default shop (demo key %s..., list %s) and initialize" % (api_key[:6], list_id))
    configuration = configure_shop(api_key, list_id)
    missing = missing_interests(configuration, mailchimp_interest_ids(configuration))
    if missing:
        differences.append("group interests not in Mailchimp after initialization: %r" % missing)

    shop = configuration.shop
    import_history(emulator, api_key, configuration, token, differences)

    step(2, "Create the contact groups VIP and Wholesale")
    vip = ContactGroup.objects.create(identifier="walk-vip-%s" % token, shop=shop, name="VIP %s" % token)
    wholesale = ContactGroup.objects.create(
        identifier="walk-wholesale-%s" % token, shop=shop, name="Wholesale %s" % token)

    people = [
        Person("alice", "Alice", True, [vip], "subscribed, then orders without ticking the marketing box"),
        Person("bob", "Bob", False, [wholesale], "no consent: transactional; later joins VIP"),
        Person("carol", "Carol", True, [vip], "unsubscribes in Mailchimp, then is saved in the shop"),
        Person("dave", "Dave", True, [vip, wholesale], "removed from VIP"),
        Person("erin", "Erin", True, [], "withdraws consent in the shop"),
    ]
    step(3, "Create %d contacts (%d with marketing permission)" % (
        len(people), sum(person.permission for person in people)))
    for person in people:
        person.contact = PersonContact.objects.create(
            first_name=person.first, last_name="Walker", email="%s.%s@gmail.com" % (person.key, token),
            marketing_permission=person.permission,
        )
        for group in person.groups:
            person.contact.groups.add(group)
        person.expected_status = "subscribed" if person.permission else "transactional"
    alice, bob, carol, dave, erin = (person.contact for person in people)
    say("   %s" % queue_summary(shop, drain()))

    step(4, "Alice orders without ticking the marketing box (Shuup copies it onto her contact); the shop lets "
            "Mailchimp send order notifications")
    configuration.send_order_notifications = True
    configuration.save()
    shipping_supplier = factories.get_supplier("simple_supplier", shop=shop, name="Walk %s" % token)  # ships
    product = factories.create_product("walk-%s" % token, shop=shop, supplier=shipping_supplier, default_price=25)
    order = factories.create_random_order(customer=alice, products=[product], random_products=False)
    alice.refresh_from_db()
    if not alice.marketing_permission:
        differences.append("Alice lost her marketing permission by ordering without ticking the box")
    pay_ship_and_refund_part(order)

    step(5, "Group changes: Dave leaves VIP (from the group), Bob joins VIP (from the contact)")
    vip.members.remove(dave)
    bob.groups.add(vip)

    step(6, "Erin withdraws her consent in the shop")
    erin.marketing_permission = False
    erin.save()
    people[4].expected_status = "unsubscribed"
    say("   %s" % queue_summary(shop, drain()))

    step(7, "Carol unsubscribes in Mailchimp; the shop then saves her contact again")
    emulator.set_member_status(api_key, list_id, carol.email, "unsubscribed")
    carol.last_name = "Walker-Jones"
    carol.save()
    people[2].expected_status = "unsubscribed"

    step(8, "Drain the queue")
    say("   %s" % queue_summary(shop, drain()))

    step(9, "A marketer unsubscribes Dave by hand in Mailchimp (no webhook); a reconciliation reads it back")
    emulator.edit_member_by_hand(api_key, list_id, dave.email, status="unsubscribed")
    say("   %s" % reconcile(shop))
    dave.refresh_from_db()
    if dave.marketing_permission:
        differences.append("the reconciliation did not withdraw Dave's marketing permission")
    people[3].expected_status = "unsubscribed"
    dave.last_name = "Walker-Smith"
    dave.save()  # the shop's next send must not subscribe him again
    say("   %s" % queue_summary(shop, drain()))

    step(10, "Add a product with a picture and a variant to the catalogue")
    differences += add_to_catalogue(emulator, api_key, configuration, token)
    coupon_step(emulator, api_key, configuration, token, alice, product, differences)

    configuration.refresh_from_db()
    differences += compare(emulator, api_key, configuration, people, order)
    if emulator.violations:
        differences.append("%d requests violated the Mailchimp API description: %s"
                           % (len(emulator.violations), emulator.violations[:3]))
    say("")
    if differences:
        say("The shop and Mailchimp DISAGREE:")
        for difference in differences:
            say("  - %s" % difference)
        return 1
    say("The shop and Mailchimp agree (%d requests to the emulator, %s)." % (
        len(emulator.requests),
        "all valid under the Mailchimp OpenAPI description" if emulator.validating
        else "NOT validated: install the emulator extra to check them"))
    return 0


def pay_ship_and_refund_part(order):
    from shuup.core.models import OrderLineType

    step(4.5, "Alice's order is sent, paid, shipped, and one of its products refunded (a drain after each)")
    drain()
    line = order.lines.filter(type=OrderLineType.PRODUCT).first()
    # One unit's price back; half of it when the (random) order has one unit: the order stays partly refunded.
    refund = line.taxful_price.amount / line.quantity / (1 if line.quantity > 1 else 2)
    for change in (lambda: order.create_payment(order.taxful_total_price.amount),
                   lambda: order.create_shipment_of_all_products(supplier=line.supplier).set_sent(),
                   lambda: order.create_refund([{"line": line, "quantity": 1, "amount": refund}])):
        change()
        drain()


def add_to_catalogue(emulator, api_key, configuration, token):
    """A lamp with a picture and a brass variant: saved in the shop, then printed as Mailchimp holds it.
    Returns the differences found."""
    from shuup.core.models import ProductMedia, ProductMediaKind
    from shuup.testing import factories

    shop = configuration.shop
    supplier = factories.get_default_supplier(shop)
    lamp = factories.create_product("lamp-%s" % token, shop=shop, supplier=supplier, default_price=80)
    brass = factories.create_product("lamp-%s-brass" % token, shop=shop, supplier=supplier, default_price=95)
    brass.link_to_parent(lamp)
    picture = ProductMedia.objects.create(product=lamp, kind=ProductMediaKind.IMAGE,
                                          external_url="https://images.example.org/lamp-%s.jpg" % token)
    picture.shops.add(shop)
    say("   %s" % queue_summary(shop, drain()))
    sent = next((product for product in emulator.products(api_key, configuration.store_id)
                 if product["id"] == str(lamp.pk)), None)
    if sent is None:
        return ["the lamp is not in Mailchimp's catalogue"]
    say("   Mailchimp holds product %s %r, image %s" % (sent["id"], sent["title"], sent["image_url"] or "-"))
    print_table(["variant", "title", "sku", "price", "stock", "visibility"], [
        [variant["id"], variant["title"], variant["sku"], variant["price"], variant["inventory_quantity"],
         variant["visibility"]] for variant in sent["variants"]])
    differences = []
    if str(brass.pk) not in {variant["id"] for variant in sent["variants"]}:
        differences.append("the lamp's brass variant is not in Mailchimp")
    if not sent["image_url"]:
        differences.append("the lamp's picture is not in Mailchimp")
    return differences


def coupon_step(emulator, api_key, configuration, token, customer, product, differences):
    """A 10 % coupon campaign becomes a promo rule with its code; an order placed with the code counts."""
    from decimal import Decimal

    from django.db import transaction
    from shuup.campaigns.models import BasketCampaign, Coupon
    from shuup.campaigns.models.basket_effects import BasketDiscountPercentage
    from shuup.core.models import OrderLineType
    from shuup.core.order_creator import OrderCreator, OrderSource
    from shuup.testing import factories

    shop = configuration.shop
    if not shop.domain:
        shop.domain = "shop.example.com"  # the code's redemption link needs the shop's address
        shop.save()
    code = "WALK%s" % token.upper()
    step(11, "A 10%% coupon campaign with the code %s; Alice orders with it" % code)
    with transaction.atomic():  # as the admin's campaign form saves it
        coupon = Coupon.objects.create(code=code, active=True, shop=shop)
        campaign = BasketCampaign.objects.create(shop=shop, name="Walk %s" % token, public_name="Ten percent off",
                                                 basket_line_text="10% off the basket", active=True, coupon=coupon)
        BasketDiscountPercentage.objects.create(campaign=campaign, discount_percentage=Decimal("0.1"))
    source = OrderSource(shop)
    source.status = factories.get_initial_order_status()
    source.customer = type(customer).objects.get(pk=customer.pk)  # loaded afresh, as a checkout request does
    supplier = product.get_shop_instance(shop).get_supplier()  # the product's own supplier, as the basket picks
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=supplier,
                    quantity=1, base_unit_price=source.create_price(25))
    source.add_code(code)
    OrderCreator().create_order(source)
    drain()
    rule = next((rule for rule in emulator.promo_rules(api_key, configuration.store_id)
                 if rule["id"] == str(campaign.pk)), None)
    codes = rule["promo_codes"] if rule else []
    if rule is None or [item["code"] for item in codes] != [code] or codes[0]["usage_count"] != 1:
        differences.append("coupon %s: Mailchimp has %r" % (code, rule))
        return
    say("   promo rule %r: %s %s off the %s; code %s used %d time, link %s" % (
        rule["title"], rule["amount"], rule["type"], rule["target"], code, codes[0]["usage_count"],
        codes[0]["redemption_url"]))


def reconcile(shop):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("mailchimp_reconcile", "--shop", str(shop.pk), stdout=out)
    return out.getvalue().strip()


def queue_summary(shop, report):
    from collections import Counter

    from shoop_mailchimp.models import SyncState

    states = Counter(SyncState.objects.filter(shop=shop).values_list("status", flat=True))
    return "sync states: %s; left for the drain: %s" % (
        ", ".join("%s %d" % item for item in sorted(states.items())), dict(report) or "nothing")


def compare(emulator, api_key, configuration, people, order):
    from shoop_mailchimp.models import ContactGroupInterest, SyncState

    differences = []
    notes = []
    interest_to_group = {}
    group_names = {}
    for mapping in ContactGroupInterest.objects.filter(shop_id=configuration.shop_id):
        interest_to_group[mapping.interest_id] = mapping.group_id
        group_names[mapping.group_id] = mapping.name
    customers = {customer["id"]: customer for customer in emulator.customers(api_key, configuration.store_id)}
    orders = {mailchimp_order["id"]: mailchimp_order for mailchimp_order in emulator.orders(
        api_key, configuration.store_id)}

    rows = []
    for person in people:
        contact = person.contact
        contact.refresh_from_db()
        state = SyncState.objects.contacts().filter(shop_id=configuration.shop_id, object_id=contact.pk).first()
        shop_groups = set(contact.groups.values_list("pk", flat=True)) & set(group_names)
        member = emulator.get_member(api_key, configuration.list_id, contact.email) or {}
        member_groups = {interest_to_group[interest_id] for interest_id, on in member.get("interests", {}).items()
                         if on and interest_id in interest_to_group}
        customer = customers.get(str(contact.pk))
        problems = []
        if state is None or state.status != "synced":
            problems.append("sync state is %s" % (state.status if state else "missing"))
        if not member:
            problems.append("no member")
        elif member.get("status") != person.expected_status:
            problems.append("status %s, expected %s" % (member.get("status"), person.expected_status))
        if member and member_groups != shop_groups:
            problems.append("interests %s, groups %s" % (_names(member_groups, group_names),
                                                          _names(shop_groups, group_names)))
        if customer is None:
            problems.append("no eCommerce customer")
        elif customer.get("opt_in_status") != (member.get("status") == "subscribed"):
            # Mailchimp never lets a customer's opt_in_status change an existing member's status,
            # so this is a note, not a disagreement about consent.
            notes.append("%s: customer opt_in_status is %s while the member is %s" % (
                contact.email, customer.get("opt_in_status"), member.get("status")))
        for problem in problems:
            differences.append("%s: %s" % (contact.email, problem))
        rows.append([
            contact.email, "yes" if contact.marketing_permission else "no", _names(shop_groups, group_names),
            state.status if state else "-", member.get("status", "-"), _names(member_groups, group_names),
            "yes" if customer else "no", "ok" if not problems else "DIFF",
        ])

    say("")
    print_table(
        ["e-mail", "permission", "groups (shop)", "sync", "member status", "interests (Mailchimp)", "customer", ""],
        rows,
    )
    mailchimp_order = orders.get(str(order.pk))
    say("")
    say("Order %s of %s: %s" % (order.pk, order.customer.email, "in Mailchimp, total %s %s, %d lines" % (
        mailchimp_order["order_total"], mailchimp_order["currency_code"], len(mailchimp_order["lines"])
    ) if mailchimp_order else "NOT in Mailchimp"))
    if mailchimp_order is None:
        differences.append("order %s is not in Mailchimp" % order.pk)
    else:
        differences += compare_order(emulator, api_key, configuration, order, mailchimp_order)
    if mailchimp_order and mailchimp_order.get("customer", {}).get("id") != str(order.customer_id):
        differences.append("order %s belongs to customer %s in Mailchimp" % (
            order.pk, mailchimp_order.get("customer", {}).get("id")))
    for note in notes:
        say("Note: %s" % note)
    order_state = SyncState.objects.orders().filter(shop_id=configuration.shop_id, object_id=order.pk).first()
    if order_state is None or order_state.status != "synced":
        differences.append("order %s sync state is %s" % (order.pk, order_state.status if order_state else "missing"))
    return differences


def compare_order(emulator, api_key, configuration, order, mailchimp_order):
    """Alice's paid, shipped and partly refunded order as Mailchimp holds it, and the e-mails it sent about it."""
    order.refresh_from_db()
    say("   %s, %s; charged %s (tax %s, shipping %s, discounts %s); placed %s" % tuple(
        mailchimp_order.get(key) for key in ("financial_status", "fulfillment_status", "order_total", "tax_total",
                                             "shipping_total", "discount_total", "processed_at_foreign")))
    sent = [n["kind"] for n in emulator.notifications(api_key, configuration.store_id)
            if n.get("order_id") == str(order.pk)]
    say("   order e-mails Mailchimp sent: %s" % (", ".join(sent) or "none"))
    expected = {"financial_status": "partially_refunded", "fulfillment_status": "shipped",
                "order_total": round(float(order.taxful_total_price.value), 2)}
    differences = ["order %s: %s is %r in Mailchimp, %r in the shop" % (order.pk, key, mailchimp_order.get(key), value)
                   for key, value in expected.items() if mailchimp_order.get(key) != value]
    if sent != ["order_confirmation", "order_invoice", "shipping_confirmation"]:
        differences.append("order %s: Mailchimp sent %s" % (order.pk, sent))
    return differences


def import_history(emulator, api_key, configuration, token, differences):
    """A customer and three orders from before the shop was connected, sent by the bulk sync: no order
    e-mail may go out for them (the store is marked is_syncing meanwhile)."""
    from shuup.core.models import PersonContact
    from shuup.testing import factories

    from shoop_mailchimp.models import SyncState
    from shoop_mailchimp.sync import bulk

    shop = configuration.shop
    old_customer = PersonContact.objects.create(first_name="Olga", last_name="Oldtimer", marketing_permission=True,
                                                email="olga.%s@gmail.com" % token)
    product = factories.create_product("walk-old-%s" % token, shop=shop,
                                       supplier=factories.get_default_supplier(shop), default_price=10)
    old_orders = [factories.create_random_order(customer=old_customer, products=[product], random_products=False)
                  for _ in range(3)]
    # As if they had been there before the shop was connected: never sent.
    SyncState.objects.filter(shop=shop, kind="contact", object_id=old_customer.pk).delete()
    SyncState.objects.filter(shop=shop, kind="order", object_id__in=[order.pk for order in old_orders]).delete()
    notified_before = len(emulator.notifications(api_key, configuration.store_id))
    report = bulk.sync_existing(shop.pk, include_orders=True, poll_interval=0.1, timeout=60)
    notified = len(emulator.notifications(api_key, configuration.store_id)) - notified_before
    step(1.5, "Import the shop's history through Mailchimp batches: %s; order e-mails Mailchimp would have "
              "sent for it: %d" % (", ".join("%s %d" % item for item in sorted(report.items())), notified))
    if notified:
        differences.append("the import of history triggered %d order notifications" % notified)
    if report.get("order synced", 0) < len(old_orders):
        differences.append("the import of history sent %d of %d orders" % (report.get("order synced", 0),
                                                                           len(old_orders)))


def _names(group_ids, group_names):
    return ", ".join(sorted(group_names.get(group_id, str(group_id)) for group_id in group_ids)) or "-"


def print_table(header, rows):
    widths = [max(len(str(row[column])) for row in [header] + rows) for column in range(len(header))]
    line = "  ".join("%-*s" % (width, title) for width, title in zip(widths, header))
    say(line)
    say("-" * len(line))
    for row in rows:
        say("  ".join("%-*s" % (width, value) for width, value in zip(widths, row)))
