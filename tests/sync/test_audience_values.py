"""The pure rules of audience data: each shop value in its merge field's form (or left out), languages, tags.
Every value the shop sends is one the emulator's merge field checks (Mailchimp's) accept."""
import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.kinds import merge_fields, tags
from shoop_mailchimp.sync.kinds.languages import mailchimp_language
from shoop_mailchimp.testing.emulator.resources.merge_fields import value_error
from shoop_mailchimp.testing.emulator.state import DEFAULT_MERGE_FIELDS, MERGE_FIELD_OPTIONS

FIELD_TYPES = [dict(tag="X", type=kind, options=dict(options)) for kind, options in MERGE_FIELD_OPTIONS.items()] + [
    dict(tag="X", type="phone", options={"phone_format": "US"}),
    dict(tag="X", type="birthday", options={"date_format": "DD/MM"}),
    dict(tag="X", type="date", options={"date_format": "DD/MM/YYYY"}),
    dict(tag="X", type="number", options={}),
    dict(tag="X", type="zip", options={}),
    dict(tag="X", type="radio", options={"choices": ["Gold", "Silver"]}),
]
shop_values = (st.text(max_size=80) | st.dates() | st.decimals(min_value=0, max_value=10 ** 7, places=2)
               | st.sampled_from(["Gold", "12345", "(555) 123-4567", "+358 40 123 4567"])
               | st.fixed_dictionaries({part: st.text(max_size=20) for part in merge_fields.ADDRESS_REQUIRED + (
                   "addr2", "country")}))


@settings(max_examples=300, deadline=None)
@given(value=shop_values, field=st.sampled_from(FIELD_TYPES))
def test_every_value_sent_is_one_mailchimp_takes(value, field):
    converted = merge_fields.convert(value, field)
    if converted not in (None, ""):  # "" clears the field
        assert value_error(field, json.loads(json.dumps(converted))) is None, (value, field, converted)


@pytest.mark.parametrize("value, field, expected", [
    (datetime.date(1990, 3, 7), {"type": "birthday", "options": {"date_format": "MM/DD"}}, "03/07"),
    (datetime.date(1990, 3, 7), {"type": "birthday", "options": {"date_format": "DD/MM"}}, "07/03"),
    (datetime.date(2020, 12, 31), {"type": "date", "options": {"date_format": "MM/DD/YYYY"}}, "12/31/2020"),
    (datetime.date(2020, 12, 31), {"type": "text"}, "2020-12-31"),
    (Decimal("12.345"), {"type": "number"}, 12.35),
    ("+358 40 123", {"type": "phone", "options": {"phone_format": "none"}}, "+358 40 123"),
    ("+358 40 123", {"type": "phone", "options": {"phone_format": "US"}}, None),
    ("ring me", {"type": "phone", "options": {}}, None),
    ({"addr1": "1 Main St", "city": "Atlanta", "state": "GA", "zip": "30312", "country": "US", "addr2": ""},
     {"type": "address"}, {"addr1": "1 Main St", "city": "Atlanta", "state": "GA", "zip": "30312", "country": "US"}),
    # Found by the property test above: a part of only white space is empty to Mailchimp.
    ({"addr1": "0", "city": "0", "state": "0", "zip": "\r", "addr2": "", "country": ""}, {"type": "address"}, None),
    ({"addr1": "1 Main St", "city": "Atlanta", "state": "", "zip": "30312", "country": "US"}, {"type": "address"},
     None),
    ({"addr1": "1 Main St", "city": "Atlanta", "state": "", "zip": "30312", "country": "US"}, {"type": "text"},
     "1 Main St, Atlanta, 30312, US"),
])
def test_a_value_in_its_fields_form(value, field, expected):
    assert merge_fields.convert(value, field) == expected


@pytest.mark.parametrize("places, number, text", [(3, 1.235, "1.235"), (2, 1.24, "1.24"), (0, 1.0, "1")])
def test_an_amount_keeps_the_places_of_the_shops_currency(places, number, text):
    """Total spent in a Kuwaiti dinar shop keeps its three places, as the orders sent (found by review aud7)."""
    assert merge_fields.convert(Decimal("1.235"), {"type": "number"}, places) == number
    mapping = {"total_spent": {"tag": "SPENT", "type": "text"}}
    assert merge_fields.merge_values(mapping, {"total_spent": Decimal("1.235")}, places) == {"SPENT": text}


def test_a_missing_value_clears_only_a_field_the_shop_alone_fills_and_an_invalid_one_is_left_out():
    mapping = {"phone": {"tag": "PHONE", "type": "phone"}, "birth_date": {"tag": "BIRTHDAY", "type": "birthday"},
               "first_name": {"tag": "FNAME", "type": "text"}, "total_spent": {"tag": "SPENT", "type": "number"},
               "groups": {"tag": "GROUPS", "type": "text"}}
    assert merge_fields.merge_values(mapping, {"phone": "no phone", "birth_date": None, "first_name": "Ann",
                                               "total_spent": None, "groups": ""}) == {
        "FNAME": "Ann", "SPENT": "", "GROUPS": ""}


def unsaved_configuration(**fields):
    return MailchimpConfiguration(**fields)


AUDIENCE = [{"tag": tag, "name": name, "type": kind, "required": False, "options": options}
            for tag, name, kind, options in DEFAULT_MERGE_FIELDS]


def test_defaults_are_mailchimps_own_fields_where_the_audience_has_them_with_a_fitting_type():
    audience = [field for field in AUDIENCE if field["tag"] != "PHONE"] + [
        {"tag": "COMPANY", "name": "Company", "type": "text", "required": False, "options": {}}]
    audience[3] = dict(audience[3], type="number")  # a BIRTHDAY field of another type is not filled
    mapping = merge_fields.effective_map(unsaved_configuration(audience_merge_fields=audience))
    assert {key: field["tag"] for key, field in mapping.items()} == {
        "first_name": "FNAME", "last_name": "LNAME", "billing_address": "ADDRESS"}


def test_a_chosen_mapping_keeps_only_fields_the_audience_has():
    chosen = {"phone": "PHONE", "company_name": "GONE", "birth_date": "ADDRESS"}
    mapping = merge_fields.effective_map(unsaved_configuration(audience_merge_fields=AUDIENCE, merge_field_map=chosen))
    assert {key: field["tag"] for key, field in mapping.items()} == {"phone": "PHONE"}


def test_missing_fields_are_those_unmapped_whose_tag_the_audience_lacks():
    missing = merge_fields.missing_fields(unsaved_configuration(audience_merge_fields=AUDIENCE))
    assert [field.tag for field in missing] == ["COMPANY", "SHIPPING", "LANGUAGE", "GROUPS", "SINCE", "SPENT"]


@pytest.mark.parametrize("shuup_code, expected", [
    ("en", "en"), ("fi", "fi"), ("pt-br", "pt"), ("pt", "pt_PT"), ("fr-ca", "fr_CA"), ("fr", "fr"), ("nb", "no"),
    ("zh-hans", "zh"), ("de-at", "de"), ("eo", ""), ("", ""), (None, ""),
])
def test_mailchimp_language(shuup_code, expected):
    assert mailchimp_language(shuup_code) == expected


@pytest.mark.parametrize("shuup_code, expected", [("es", "es_ES"), ("es-es", "es_ES"), ("es-mx", "es"),
                                                   ("es-ar", "es")])
def test_spanish_of_spain_is_not_sent_as_mexican_spanish(shuup_code, expected):
    """Mailchimp's plain ``es`` is Spanish (Mexico) and ``es_ES`` Spain's, as its ``pt`` is Brazil's and ``pt_PT``
    Portugal's: Django's generic ``es`` (a shop in Spain) is sent as ``es_ES``, as its generic ``pt`` is ``pt_PT``;
    Latin American Spanish stays ``es`` (found by review aud7)."""
    assert mailchimp_language(shuup_code) == expected


@pytest.mark.parametrize("shuup_code, expected", [("PT-BR", "pt"), ("zh_Hans", "zh"), ("sr-latn", "sr"),
                                                   ("  ", ""), ("x" * 300, ""), ("<script>", "")])
def test_odd_language_codes(shuup_code, expected):
    """Any letter case or separator, a script subtag, blanks, an overlong or hostile code."""
    assert mailchimp_language(shuup_code) == expected


def test_tags_the_shop_no_longer_wants_are_removed_only_if_the_shop_applied_them():
    change = tags.TagChange(wanted={"customer", "company"}, applied={"customer", "Old group"}, found=set())
    assert [operation.body for operation in change.operations("list", "ann@fastmail.com")] == [{"tags": [
        {"name": "company", "status": "active"}, {"name": "Old group", "status": "inactive"}]}]
    assert tags.TagChange({"customer"}, {"customer"}, set()).operations("list", "ann@fastmail.com") == []


def test_a_rule_tag_the_member_carried_already_is_found_not_applied():
    change = tags.TagChange(wanted={"customer", "company"}, applied=set(), found=set(), carried={"customer", "VIP"})
    assert (change.add, change.applied, change.found) == ({"company"}, {"company"}, {"customer"})
    later = tags.TagChange(wanted=set(), applied=change.applied, found=change.found)
    assert (later.remove, later.applied, later.found) == ({"company"}, set(), set())


def test_tag_rules():
    rules = unsaved_configuration(customer_tag="customer", company_tag="company", tag_group_ids=[7])
    assert tags.wanted_tags(rules, is_company=True, order_count=0, group_names={7: "  Gold   members ", 8: "x"}) == {
        "company", "Gold members"}
    assert tags.wanted_tags(rules, is_company=False, order_count=2, group_names={}) == {"customer"}
    assert tags.wanted_tags(unsaved_configuration(), is_company=True, order_count=2, group_names={7: "Gold"}) == set()
