"""Credential hints: `credential_last4` (4 characters, a 4-digit credential whole) becomes
`credential_hint` (the last 2 characters of a credential of 8 or more, else empty).

Existing hints are cleared, because the length of the credential they came from is not known;
each import batch that held one gets a new ledger entry with its new digest, through the
application's own ledger functions (facility_log/services/credentials.py). The column is
narrowed only after that, so that no value is cut by the database.
"""

from django.db import migrations, models


def clear_old_hints(apps, schema_editor):
    AccessEvent = apps.get_model("facility_log", "AccessEvent")
    if not AccessEvent.objects.exclude(credential_hint="").exists():
        return  # a new installation: nothing to clear, and the ledger is not touched
    from facility_log.services.credentials import clear_credential_hints

    clear_credential_hints()


class Migration(migrations.Migration):
    dependencies = [
        ("facility_log", "0006_proof"),
    ]

    operations = [
        migrations.RenameField(
            model_name="accessevent",
            old_name="credential_last4",
            new_name="credential_hint",
        ),
        migrations.RunPython(clear_old_hints, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accessevent",
            name="credential_hint",
            field=models.CharField(
                blank=True,
                help_text="last 2 characters of a credential of 8 or more; empty for a shorter one",
                max_length=2,
            ),
        ),
    ]
