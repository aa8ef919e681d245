"""Rule ``marketing_permissions``: GDPR audiences give every member their marketing permissions."""

import pytest
import requests

from shoop_mailchimp.testing.emulator import rules

from .conftest import EMAIL, md5, put_member


@pytest.fixture
def gdpr_list(mailchimp_account):
    emu, api_key, _ = mailchimp_account
    list_id = emu.add_list(api_key, "GDPR audience", marketing_permissions=True)
    return emu, api_key, list_id


def test_members_of_a_gdpr_audience_carry_its_permissions(gdpr_list, api, mailchimp_emulator):
    emu, api_key, list_id = gdpr_list
    permissions = emu.marketing_permissions(api_key, list_id)
    assert [p["text"] for p in permissions] == ["Email", "Direct Mail", "Customized Online Advertising"]
    assert api("GET", f"lists/{list_id}").json()["marketing_permissions"] is True
    member = put_member(api, list_id).json()
    expected = [dict(p, enabled=False) for p in permissions]
    assert member["marketing_permissions"] == expected
    template = "/lists/{listId}/members/{subscriberHash}"
    assert mailchimp_emulator.check_response("PUT", template, 200, member) == []
    email_permission = permissions[0]["marketing_permission_id"]
    changed = put_member(api, list_id,
                         marketing_permissions=[{"marketing_permission_id": email_permission, "enabled": True}])
    assert changed.json()["marketing_permissions"][0] == dict(permissions[0], enabled=True)
    assert [p["enabled"] for p in changed.json()["marketing_permissions"]] == [True, False, False]
    patch = {"marketing_permissions": [{"marketing_permission_id": email_permission, "enabled": False}]}
    patched = api("PATCH", f"lists/{list_id}/members/{md5(EMAIL)}", json=patch)
    assert [p["enabled"] for p in patched.json()["marketing_permissions"]] == [False, False, False]


def test_unknown_permission_is_refused(gdpr_list, api):
    emu, api_key, list_id = gdpr_list
    response = put_member(api, list_id, marketing_permissions=[{"marketing_permission_id": "nope", "enabled": True}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "marketing_permissions"
    assert emu.get_member(api_key, list_id, EMAIL) is None


def test_members_created_by_customers_get_the_permissions_too(gdpr_list, mailchimp_client):
    emu, api_key, list_id = gdpr_list
    mailchimp_client.stores.create({"id": "s1", "list_id": list_id, "name": "Shop", "currency_code": "EUR"})
    customer = {"id": "c1", "email_address": EMAIL, "opt_in_status": True}
    mailchimp_client.stores.customers.create_or_update("s1", "c1", customer)
    member = emu.get_member(api_key, list_id, EMAIL)
    assert [p["enabled"] for p in member["marketing_permissions"]] == [False, False, False]


def test_other_audiences_have_none(mailchimp_account, api):
    _, _, list_id = mailchimp_account
    sent = [{"marketing_permission_id": "abc", "enabled": True}]
    member = put_member(api, list_id, marketing_permissions=sent).json()
    assert "marketing_permissions" not in member
    assert api("GET", f"lists/{list_id}").json()["marketing_permissions"] is False


def test_rule_off_keeps_what_is_sent(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_rule(rules.MARKETING_PERMISSIONS, False, api_key=api_key, list_id=list_id)
    sent = [{"marketing_permission_id": "abc", "enabled": True}]
    assert put_member(api, list_id, marketing_permissions=sent).json()["marketing_permissions"] == sent


def test_gdpr_audience_through_the_api_and_the_control_api(mailchimp_account, api, mailchimp_client):
    emu, api_key, _ = mailchimp_account
    body = {
        "name": "Newsletter",
        "contact": {
            "company": "Shop",
            "address1": "1 Main St",
            "city": "Helsinki",
            "state": "",
            "zip": "00100",
            "country": "FI",
        },
        "permission_reminder": "You bought from our shop.",
        "campaign_defaults": {"from_name": "Shop", "from_email": "shop@gmail.com", "subject": "", "language": "en"},
        "email_type_option": False,
        "marketing_permissions": True,
    }
    created = mailchimp_client.lists.create(body)
    assert created["marketing_permissions"] is True and created["name"] == "Newsletter"
    assert len(emu.marketing_permissions(api_key, created["id"])) == 3
    response = requests.post(
        f"{emu.root_url}/_emulator/lists",
        json={"api_key": api_key, "name": "Remote", "marketing_permissions": ["Email"]},
        timeout=5,
    )
    list_id = response.json()["id"]
    assert [p["text"] for p in emu.marketing_permissions(api_key, list_id)] == ["Email"]
    assert [p["text"] for p in put_member(api, list_id).json()["marketing_permissions"]] == ["Email"]
