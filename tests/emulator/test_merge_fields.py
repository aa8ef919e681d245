"""Merge fields of an audience, and rule ``merge_fields``: member writes checked against them."""

import pytest

from shoop_mailchimp.testing.emulator import rules

from .conftest import md5

EMAIL = "ann.smith@gmail.com"
ADDRESS = {"addr1": "1 Main St", "city": "Atlanta", "state": "GA", "zip": "30312", "country": "US"}


def put(api, list_id, merge_fields=None, params=None, email=EMAIL, **body):
    body = dict({"email_address": email, "status_if_new": "subscribed"}, **body)
    if merge_fields is not None:
        body["merge_fields"] = merge_fields
    return api("PUT", f"lists/{list_id}/members/{md5(email)}", json=body, params=params)


def assert_invalid(response, errors):
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "Invalid Resource"
    assert problem["detail"] == "Your merge fields were invalid."
    assert problem["errors"] == errors


def test_a_new_audience_has_mailchimps_default_fields(mailchimp_account, mailchimp_client, mailchimp_emulator):
    _, _, list_id = mailchimp_account
    listing = mailchimp_client.lists.merge_fields.all(list_id, get_all=True)
    fields = [(f["merge_id"], f["tag"], f["name"], f["type"], f["required"]) for f in listing["merge_fields"]]
    assert fields == [
        (1, "FNAME", "First Name", "text", False),
        (2, "LNAME", "Last Name", "text", False),
        (3, "ADDRESS", "Address", "address", False),
        (4, "PHONE", "Phone Number", "phone", False),
        (5, "BIRTHDAY", "Birthday", "birthday", False),
    ]
    assert listing["list_id"] == list_id and listing["total_items"] == 5
    errors = mailchimp_emulator.check_response("GET", "/lists/{listId}/merge-fields", 200, listing)
    assert errors == []


def test_create_get_patch_delete(mailchimp_account, mailchimp_client, api, mailchimp_emulator):
    emu, api_key, list_id = mailchimp_account
    created = mailchimp_client.lists.merge_fields.create(list_id, {"name": "Company", "type": "text", "tag": "company"})
    assert (created["merge_id"], created["tag"], created["required"]) == (6, "COMPANY", False)
    assert mailchimp_emulator.check_response("POST", "/lists/{listId}/merge-fields", 200, created) == []
    generated = mailchimp_client.lists.merge_fields.create(list_id, {"name": "Shoe size", "type": "number"})
    assert generated["tag"] == "MMERGE7"
    duplicate = api("POST", f"lists/{list_id}/merge-fields", json={"name": "Again", "type": "text", "tag": "COMPANY"})
    assert duplicate.status_code == 400
    put(api, list_id, {"COMPANY": "Acme"})
    patched = mailchimp_client.lists.merge_fields.update(
        list_id, 6, {"name": "Employer", "tag": "EMPLOYER", "required": True})
    assert (patched["name"], patched["tag"], patched["required"], patched["type"]) == (
        "Employer",
        "EMPLOYER",
        True,
        "text",
    )
    assert emu.get_member(api_key, list_id, EMAIL)["merge_fields"]["EMPLOYER"] == "Acme"
    assert mailchimp_client.lists.merge_fields.get(list_id, 6)["name"] == "Employer"
    assert mailchimp_client.lists.merge_fields.all(list_id, required="true")["total_items"] == 1
    assert mailchimp_client.lists.merge_fields.all(list_id, type="number")["merge_fields"][0]["tag"] == "MMERGE7"
    assert api("DELETE", f"lists/{list_id}/merge-fields/6").status_code == 204
    assert api("GET", f"lists/{list_id}/merge-fields/6").status_code == 404
    assert "EMPLOYER" not in emu.get_member(api_key, list_id, EMAIL)["merge_fields"]


def test_members_show_every_field_of_the_audience(mailchimp_account, api):
    _, _, list_id = mailchimp_account
    member = put(api, list_id, {"FNAME": "Ann", "ADDRESS": ADDRESS, "BIRTHDAY": "02/29"}).json()
    assert member["merge_fields"] == {"FNAME": "Ann", "LNAME": "", "ADDRESS": ADDRESS, "PHONE": "", "BIRTHDAY": "02/29"}


def test_unknown_tags_are_ignored(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    response = put(api, list_id, {"FNAME": "Ann", "NOSUCHTAG": "x"})
    assert response.status_code == 200
    assert "NOSUCHTAG" not in response.json()["merge_fields"]
    assert "NOSUCHTAG" not in emu.get_member(api_key, list_id, EMAIL)["merge_fields"]


def test_required_field_missing(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_merge_field_required(api_key, list_id, "LNAME")
    assert_invalid(put(api, list_id, {"FNAME": "Ann"}), [{"field": "LNAME", "message": "Please enter a value"}])
    assert_invalid(put(api, list_id), [{"field": "LNAME", "message": "Please enter a value"}])
    assert emu.get_member(api_key, list_id, EMAIL) is None
    assert put(api, list_id, {"FNAME": "Ann", "LNAME": "Smith"}).status_code == 200
    cleared = put(api, list_id, {"LNAME": ""})
    assert_invalid(cleared, [{"field": "LNAME", "message": "Please enter a value"}])
    status_only = api("PATCH", f"lists/{list_id}/members/{md5(EMAIL)}", json={"status": "unsubscribed"})
    assert status_only.status_code == 200, "an update that sends no merge fields is not checked"


def test_skip_merge_validation_lets_required_fields_be_missing(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_merge_field_required(api_key, list_id, "LNAME")
    skipped = put(api, list_id, {"FNAME": "Ann"}, params={"skip_merge_validation": "true"})
    assert skipped.status_code == 200
    assert skipped.json()["merge_fields"]["LNAME"] == ""
    posted = api(
        "POST",
        f"lists/{list_id}/members",
        params={"skip_merge_validation": "true"},
        json={"email_address": "bo@gmail.com", "status": "subscribed"},
    )
    assert posted.status_code == 200
    wrong_type = put(api, list_id, {"BIRTHDAY": "1990-02-01"}, params={"skip_merge_validation": "true"})
    assert_invalid(wrong_type, [{"field": "BIRTHDAY", "message": "Please enter a month (01-12) and a day (01-31)"}])


def test_default_value_fills_a_required_field(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.add_merge_field(api_key, list_id, "SOURCE", required=True, default_value="Shop")
    assert put(api, list_id).json()["merge_fields"]["SOURCE"] == "Shop"


@pytest.mark.parametrize(
    "tag,value,message",
    [
        ("ADDRESS", {"addr1": "1 Main St", "city": "Atlanta"}, "Please enter a complete address"),
        ("ADDRESS", "1 Main St, Atlanta", "Please enter a complete address"),
        ("BIRTHDAY", "1990-02-01", "Please enter a month (01-12) and a day (01-31)"),
        ("BIRTHDAY", "13/01", "Please enter a month (01-12) and a day (01-31)"),
        ("PHONE", "call me", "Please enter a valid phone number"),
        ("SIZE", "large", "Please enter a number"),
        ("SINCE", "31/12/2020", "Please enter the date"),
        ("FNAME", {"first": "Ann"}, "Please enter a value"),
    ],
)
def test_wrong_types(mailchimp_account, api, tag, value, message):
    emu, api_key, list_id = mailchimp_account
    emu.add_merge_field(api_key, list_id, "SIZE", type="number")
    emu.add_merge_field(api_key, list_id, "SINCE", type="date")
    assert_invalid(put(api, list_id, {tag: value}), [{"field": tag, "message": message}])


@pytest.mark.parametrize(
    "tag,value",
    [
        ("ADDRESS", ADDRESS),
        ("BIRTHDAY", "12/31"),
        ("PHONE", "+358 40 123 4567"),
        ("SIZE", 42),
        ("SIZE", "41.5"),
        ("SINCE", "12/31/2020"),
        ("SINCE", "2020-12-31"),
        ("USPHONE", "(404) 555-0134"),
    ],
)
def test_right_types(mailchimp_account, api, tag, value):
    emu, api_key, list_id = mailchimp_account
    emu.add_merge_field(api_key, list_id, "SIZE", type="number")
    emu.add_merge_field(api_key, list_id, "SINCE", type="date")
    emu.add_merge_field(api_key, list_id, "USPHONE", type="phone", options={"phone_format": "US"})
    response = put(api, list_id, {tag: value})
    assert response.status_code == 200, response.text
    assert response.json()["merge_fields"][tag] == value


def test_errors_list_every_field(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_merge_field_required(api_key, list_id, "FNAME")
    response = put(api, list_id, {"PHONE": "none", "BIRTHDAY": "31/31"})
    assert_invalid(
        response,
        [
            {"field": "PHONE", "message": "Please enter a valid phone number"},
            {"field": "BIRTHDAY", "message": "Please enter a month (01-12) and a day (01-31)"},
            {"field": "FNAME", "message": "Please enter a value"},
        ],
    )


def test_customers_create_members_without_merge_validation(mailchimp_account, mailchimp_client):
    emu, api_key, list_id = mailchimp_account
    emu.set_merge_field_required(api_key, list_id, "PHONE")
    mailchimp_client.stores.create({"id": "s1", "list_id": list_id, "name": "Shop", "currency_code": "EUR"})
    customer = {"id": "c1", "email_address": EMAIL, "opt_in_status": False, "first_name": "Ann"}
    mailchimp_client.stores.customers.create_or_update("s1", "c1", customer)
    assert emu.get_member(api_key, list_id, EMAIL)["merge_fields"]["FNAME"] == "Ann"


def test_rule_off_keeps_whatever_is_sent(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_merge_field_required(api_key, list_id, "LNAME")
    emu.set_rule(rules.MERGE_FIELDS, False, api_key=api_key, list_id=list_id)
    response = put(api, list_id, {"NOSUCHTAG": "x", "BIRTHDAY": "1990-02-01"})
    assert response.status_code == 200
    assert response.json()["merge_fields"]["NOSUCHTAG"] == "x"
    assert response.json()["merge_fields"]["BIRTHDAY"] == "1990-02-01"


def test_a_text_value_longer_than_a_text_field_holds_is_refused(mailchimp_account, api):
    """Mailchimp's text audience fields hold 255 characters: a longer value fails the write, so a shop that forgot
    to cut one fails here too (review aud13)."""
    _emu, _api_key, list_id = mailchimp_account
    assert put(api, list_id, {"FNAME": "x" * 255}).status_code == 200
    assert_invalid(put(api, list_id, {"FNAME": "x" * 256}),
                   [{"field": "FNAME", "message": "Please enter a value of 255 characters or fewer"}])


def test_an_audience_holds_at_most_thirty_fields(mailchimp_account, api):
    """An audience holds 30 audience fields (80 on Premium plans): a field beyond is refused, so the shop's
    "create missing fields" meets the refusal in tests too (review aud13)."""
    _emu, _api_key, list_id = mailchimp_account

    def total():
        return api("GET", f"lists/{list_id}/merge-fields", params={"count": 1000}).json()["total_items"]

    room = 30 - total()
    statuses = [api("POST", f"lists/{list_id}/merge-fields",
                    json={"tag": "F%d" % number, "name": "Field %d" % number, "type": "text"}).status_code
                for number in range(room + 3)]
    assert statuses == [200] * room + [400] * 3
    assert total() == 30
