"""The API key moves from shuup_mirage_field to Fernet (shoop_mailchimp.encryption).

mirage encrypts with a fixed IV and the first 24 characters of MIRAGE_SECRET_KEY, and stores a
value verbatim when the value itself happens to decrypt. Keys are read here with
MIRAGE_SECRET_KEY (as mirage read them) and written with ENCRYPTION_KEYS.
"""
import re
import sys

from django.db import migrations, models

API_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}-[a-z]+[0-9]+$")


def mirage_plaintext(stored, cipher):
    """The key behind a mirage value, or None when MIRAGE_SECRET_KEY does not give one back.

    A value that already looks like a key is one mirage stored verbatim (about one key in a
    million); mirage itself reads those back as garbage.
    """
    if API_KEY_PATTERN.match(stored):
        return stored
    try:
        plaintext = cipher.decrypt(stored)
    except Exception:  # whatever base64, the padding or UTF-8 decoding raise on a wrong key
        return None
    return plaintext if API_KEY_PATTERN.match(plaintext) else None


def mirage_to_fernet(apps, schema_editor):
    from shuup_mirage_field.crypto import Crypto

    from shoop_mailchimp import encryption

    configurations = apps.get_model("shoop_mailchimp", "MailchimpConfiguration").objects.using(
        schema_editor.connection.alias
    )
    unconverted = []
    for configuration in configurations.exclude(api_key=""):
        plaintext = mirage_plaintext(configuration.api_key, Crypto().cipher)
        if plaintext is None:
            # Kept as it is: it reads as "cannot be decrypted" in the admin, the sync and
            # check shoop_mailchimp.W004, rather than vanish.
            configuration.encrypted_api_key = configuration.api_key
            unconverted.append(configuration.shop_id)
        else:
            configuration.encrypted_api_key = encryption.encrypt(plaintext)
        configuration.save(update_fields=["encrypted_api_key"])
    if unconverted:
        sys.stderr.write(
            "\nshoop_mailchimp: MIRAGE_SECRET_KEY does not decrypt the stored API key of shop(s) %s: "
            "re-enter it on the shop's page.\n" % ", ".join(map(str, unconverted))
        )


def fernet_to_mirage(apps, schema_editor):
    from shuup_mirage_field.crypto import Crypto

    from shoop_mailchimp import encryption

    configurations = apps.get_model("shoop_mailchimp", "MailchimpConfiguration").objects.using(
        schema_editor.connection.alias
    )
    for configuration in configurations.exclude(encrypted_api_key=""):
        try:
            configuration.api_key = Crypto().encrypt(encryption.decrypt(configuration.encrypted_api_key))
        except encryption.UndecryptableValue:
            configuration.api_key = configuration.encrypted_api_key  # a value the forward step kept
        configuration.save(update_fields=["api_key"])


class Migration(migrations.Migration):

    dependencies = [
        ('shoop_mailchimp', '0004_sync_core'),
    ]

    operations = [
        # The raw mirage values, for the conversion below (the column itself is unchanged).
        migrations.AlterField(
            model_name='mailchimpconfiguration',
            name='api_key',
            field=models.CharField(blank=True, default='', max_length=255, verbose_name='API key'),
        ),
        migrations.AddField(
            model_name='mailchimpconfiguration',
            name='encrypted_api_key',
            field=models.TextField(blank=True, default='', editable=False, verbose_name='API key (encrypted)'),
        ),
        migrations.RunPython(mirage_to_fernet, fernet_to_mirage),
        migrations.RemoveField(
            model_name='mailchimpconfiguration',
            name='api_key',
        ),
    ]
