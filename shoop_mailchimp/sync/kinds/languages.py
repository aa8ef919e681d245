"""A Shuup language code as the member ``language`` Mailchimp knows. Pure, no I/O.

Mailchimp takes only the codes of its own list; a language it does not know is left out of the member.
"""

#: Mailchimp's member languages (its "Supported languages" list).
MAILCHIMP_LANGUAGES = frozenset((
    "en", "ar", "af", "be", "bg", "ca", "zh", "hr", "cs", "da", "nl", "et", "fa", "fi", "fr", "fr_CA", "de", "el",
    "he", "hi", "hu", "is", "id", "ga", "it", "ja", "km", "ko", "lv", "lt", "mt", "ms", "mk", "no", "pl", "pt",
    "pt_PT", "ro", "ru", "sr", "sk", "sl", "es", "es_ES", "sw", "sv", "ta", "th", "tr", "uk", "vi",
))
#: Shuup (Django) codes whose Mailchimp code is not their own: Mailchimp's "pt" is Brazilian Portuguese,
#: "pt_PT" Portugal's; its "es" is Spanish (Mexico), "es_ES" Spain's (Django's generic "es" is Spain's Spanish,
#: its Latin American ones are "es-mx", "es-ar"...); its Norwegian is "no".
SHUUP_TO_MAILCHIMP = {
    "pt": "pt_PT", "pt-br": "pt", "pt-pt": "pt_PT", "fr-ca": "fr_CA", "es": "es_ES", "es-es": "es_ES", "nb": "no",
    "nn": "no", "zh-hans": "zh", "zh-cn": "zh", "iw": "he", "in": "id",
}
#: A regional code whose language's generic code maps elsewhere: Spanish of another region than Spain ("es-mx",
#: "es-ar", "es-419") is Mailchimp's "es", not Spain's "es_ES".
REGIONAL_FALLBACK = {"es": "es"}


def mailchimp_language(code):
    """Mailchimp's code for a Shuup language ("fi", "pt-br", "fr_CA"), or "" when Mailchimp does not know it."""
    code = (code or "").strip().lower().replace("_", "-")
    if not code:
        return ""
    if code in SHUUP_TO_MAILCHIMP:
        return SHUUP_TO_MAILCHIMP[code]
    base = code.split("-")[0]
    if base in REGIONAL_FALLBACK:
        return REGIONAL_FALLBACK[base]
    if base in SHUUP_TO_MAILCHIMP:
        return SHUUP_TO_MAILCHIMP[base]
    return base if base in MAILCHIMP_LANGUAGES else ""
