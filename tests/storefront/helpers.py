"""The newsletter block placed on the front page as a shop owner does with the xtheme editor (a published
view configuration), and the pages a shopper sees."""
from datetime import timedelta
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from shuup.core.models import PersonContact, get_person_contact
from shuup.xtheme import set_current_theme
from shuup.xtheme.layout import Layout
from shuup.xtheme.models import SavedViewConfig, SavedViewConfigStatus

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import SyncState
from shoop_mailchimp.storefront.plugins import NewsletterPlugin
from shoop_mailchimp.storefront.views import ACCOUNT_VIEW_NAME, SIGNUP_VIEW_NAME
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.forms import form_values
from tests.helpers import make_all_due, new_person, row_of, send_due, wait_for

FRONT_PAGE_VIEW = "IndexView"
FRONT_PAGE_PLACEHOLDER = "front_content"


def place_newsletter_block(shop, blocks=1, **config):
    """The block (``blocks`` of them, one row each) in the front page's content placeholder of the Classic Gray
    theme, published."""
    theme = set_current_theme("shuup.themes.classic_gray", shop)
    layout = Layout(theme, FRONT_PAGE_PLACEHOLDER)
    for _block in range(blocks):
        layout.begin_row()
        layout.begin_column({"md": 12})
        layout.add_plugin(NewsletterPlugin.identifier, config)
    view_config = SavedViewConfig(theme_identifier=theme.identifier, shop=shop, view_name=FRONT_PAGE_VIEW,
                                  status=SavedViewConfigStatus.CURRENT_DRAFT)
    view_config.set_layout_data(layout.placeholder_name, layout)
    view_config.save()
    view_config.publish()
    return view_config


def place_newsletter_block_with_editor(admin_client, shop, title, ask_name):
    """The block placed as a shop owner does it in xtheme's editor (its iframe's requests, made here without
    the drag and drop): a new row, the plugin chosen in its cell, the plugin's form saved and published."""
    theme = set_current_theme("shuup.themes.classic_gray", shop)
    editor_url = reverse("shuup:xtheme_editor") + "?" + urlencode({
        "theme": theme.identifier, "view": FRONT_PAGE_VIEW, "ph": FRONT_PAGE_PLACEHOLDER,
        "layout_data_key": FRONT_PAGE_PLACEHOLDER, "x": 0, "y": 0})
    assert admin_client.post(editor_url, {"command": "add_row"}).status_code == 200
    page = admin_client.post(editor_url, {"command": "change_plugin", "plugin": NewsletterPlugin.identifier})
    data = form_values(page.content.decode(), "xt-editor-form")
    assert data["general-plugin"] == NewsletterPlugin.identifier
    data.update({"plugin-title_en": title, "publish": "1"})
    if ask_name:
        data["plugin-ask_name"] = "on"
    published = admin_client.post(editor_url, data)
    assert "Published" in published.content.decode()


def signup_url():
    return reverse(SIGNUP_VIEW_NAME)


def account_url():
    return reverse(ACCOUNT_VIEW_NAME)


def page_messages(response):
    """The texts of the alerts Shuup's front shows (messages), as the page holds them."""
    import re

    return [" ".join(text.split()) for text in re.findall(
        r'<div class="alert[^"]*" role="alert">\s*<button.*?</button>(.*?)</div>', response.content.decode(),
        re.S)]


def registered_account(shop, django_user_model, username, email, **fields):
    """An account of the shop registered with ``email`` (Shuup verifies nothing: nobody proved the address theirs),
    its contact saved with ``fields``: ``(its user, its contact)``."""
    user = django_user_model.objects.create_user(username, email, "pw")
    contact = get_person_contact(user)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save()
    contact.add_to_shop(shop)
    return user, contact


def logged_in_account(shop, django_user_model, username, email, proven=False):
    """An account of the shop registered with ``email`` (Shuup verifies nothing; ``proven``: its owner proved the
    address theirs, an activation link) and a browser logged in as it: ``(its contact, the browser)``."""
    user = django_user_model.objects.create_user(username, email, "pw")
    contact = get_person_contact(user)
    contact.add_to_shop(shop)
    if proven:
        shop_consent.record_proof(contact.pk, email)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return contact, browser


def choose(client, subscribe):
    """The shopper presses Subscribe (or Unsubscribe) on their account page."""
    client.get(account_url())
    token = client.cookies["csrftoken"].value
    return client.post(account_url(), {"subscribe": "1" if subscribe else "0", "csrfmiddlewaretoken": token},
                       follow=True)


def presses_on_account_page(user, subscribe):
    """``user`` logs in, presses Subscribe (or Unsubscribe) on the account page, and the worker sends it. Returns
    the logged-in browser."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    choose(browser, subscribe=subscribe)
    send_due(rounds=3)
    return browser


def customer_information_post(client, **contact_fields):
    """Post Shuup's own *Customer Information* page (``shuup:customer_edit``) as a shopper does: their details, both
    addresses, and ``contact_fields`` (``marketing_permission``: the page's box)."""
    from shuup.utils.django_compat import reverse

    url = reverse("shuup:customer_edit")
    assert client.get(url).status_code == 200
    data = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    for prefix in ("billing", "shipping"):
        data.update({"%s-name" % prefix: "Tess Tester", "%s-street" % prefix: "Main Street 1",
                     "%s-city" % prefix: "Turku", "%s-postal_code" % prefix: "20100", "%s-country" % prefix: "FI"})
    data.update({"contact-first_name": "Tess", "contact-last_name": "Tester", "contact-language": "en",
                 "contact-gender": "u"})
    data.update({"contact-%s" % name: value for name, value in contact_fields.items()})
    response = client.post(url, data)
    assert response.status_code == 302, {
        name: form.errors for name, form in response.context_data["form"].forms.items() if form.errors}
    return response


def bea_leaves_her_member(shop, django_user_model, username, bea_addr, cal_addr, **fields):
    """The staff add Cal (at ``cal_addr``); Bea registers at ``bea_addr`` (first name "Bea", and ``fields``): her own
    member there, with her names. Bea then types Cal's address into her account: her member stays at ``bea_addr``
    (another contact of the shop has the new address), remembered as hers (``SyncState.members_left``). Returns
    ``(her user, her contact)``."""
    PersonContact.objects.create(email=cal_addr, first_name="Cal").add_to_shop(shop)
    send_due(rounds=2)
    user, bea = registered_account(shop, django_user_model, username, bea_addr, first_name="Bea", **fields)
    send_due(rounds=2)
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = cal_addr
    bea.save()
    send_due(rounds=3)
    assert [member["email"] for member in row_of(bea).members_left] == [bea_addr]
    return user, bea


def bea_at_a_third_address(shop, mailchimp_account, django_user_model, username, tag):
    """:func:`bea_leaves_her_member` ("Bea Private" at bea.TAG, Cal at cal.TAG), then Bea types a fresh address,
    bea2.TAG: her own member there. Returns ``(her user, her contact, bea.TAG, bea2.TAG)``."""
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr, bea2_addr = "bea." + tag, "cal." + tag, "bea2." + tag
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, username, bea_addr, cal_addr, last_name="Private")
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = bea2_addr
    bea.save()
    send_due(rounds=3)
    row = row_of(bea)
    assert [member["email"] for member in row.members_left] == [bea_addr], "setup: %r" % row.members_left
    assert row.email == bea2_addr and emulator.get_member(api_key, list_id, bea2_addr) is not None, "setup"
    assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"].get("LNAME") == "Private", "setup"
    return bea_user, bea, bea_addr, bea2_addr


def bea_erased_beside_a_batch(configuration, mailchimp_account, bea_user, bea_addr, xena, written_name, batch_open):
    """The worker's round is a burst: Xena's send (due now) goes in a batch, which writes ``written_name`` on the
    member at ``bea_addr``. Bea's account is then deleted and the worker's next round sends her erasure one by one:
    before the batch closes Xena's row (``batch_open``), or after (the control). The batch then ends."""
    emulator, api_key, list_id = mailchimp_account
    run_due_work()
    assert row_of(xena).batch_id, "setup: Xena's send should be out in a burst's batch"
    wait_for(emulator, lambda: (emulator.get_member(api_key, list_id, bea_addr) or {}).get(
        "merge_fields", {}).get("FNAME") == written_name, "the batch writing Xena's member")
    assert row_of(xena).batch_id, "setup: Xena's row should still be out with its batch"
    if not batch_open:
        assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0
    get_person_contact(bea_user).delete()
    SyncState.objects.filter(erase=True).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    drain()  # the worker's next round: Bea's erasure
    if batch_open:
        assert not (emulator.get_member(api_key, list_id, bea_addr) or {}).get("merge_fields", {}).get("LNAME"), (
            "setup: Bea's erasure should have cleared the last name she shares with Xena")
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0


def olga_subscribes_it_again(mailchimp_account, own):
    """Olga, who owns the mailbox ``own`` (a contact's typo), subscribes the member the contact left there on
    Mailchimp's own form and types her names there ("Olga Real"); the webhook reaches the shop."""
    emulator, api_key, list_id = mailchimp_account
    emulator.fire_event(api_key, list_id, "subscribe", own, merges={"FNAME": "Olga", "LNAME": "Real"})
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed", "setup: Olga subscribed"


def types_it_back_and_unsubscribes(user, own, mailchimp_account, before_the_send=None):
    """The contact of ``user`` types ``own`` back into its account (``before_the_send(contact)`` then, if given), is
    sent, and presses Unsubscribe on its account page. Returns the merge fields of the member of ``own`` after the
    move and that member after the Unsubscribe."""
    emulator, api_key, list_id = mailchimp_account
    contact = PersonContact.objects.get(pk=get_person_contact(user).pk)
    contact.email = own
    contact.save()
    if before_the_send:
        before_the_send(contact)
    send_due(rounds=3)
    names = emulator.get_member(api_key, list_id, own)["merge_fields"]
    presses_on_account_page(user, subscribe=False)
    return names, emulator.get_member(api_key, list_id, own)


def vera_renamed_after_her_shared_member_moved(mailchimp_account, family, home, lost=True):
    """Vera (consenting, "Vera Secretname") is sent at ``family``; Carl (no consent) has it too. In Mailchimp the member
    moves to ``home`` (its upemail never reaches the shop). Vera's last name becomes "Secretname-Smith": her send finds
    no member at ``family`` and writes a new one there; with ``lost`` its answer is lost (a timeout: the row keeps the
    moved member's id), else it is heard. The test sets a short ``TIMEOUT``. Returns Vera."""
    emulator, api_key, list_id = mailchimp_account
    vera = new_person(permission=True, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    new_person(permission=False, email=family, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    old_id = emulator.get_member(api_key, list_id, family)["unique_email_id"]
    emulator.fire_event(api_key, list_id, "upemail", family, new_email=home)  # its delivery does not reach the shop
    vera = PersonContact.objects.get(pk=vera.pk)
    vera.last_name = "Secretname-Smith"
    vera.save()
    if not lost:
        send_due(rounds=3)
        assert row_of(vera).unique_email_id != old_id, "setup"
        return vera
    emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: (emulator.get_member(api_key, list_id, family) or {}).get(
        "merge_fields", {}).get("LNAME") == "Secretname-Smith", "the rename reaching Mailchimp")
    emulator.faults.clear()
    assert row_of(vera).unique_email_id == old_id, "setup: the new member's id never reached the row"
    return vera
