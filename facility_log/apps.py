from django.apps import AppConfig


class FacilityLogConfig(AppConfig):
    name = "facility_log"
    verbose_name = "Facility log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from facility_log import signals  # noqa: F401  (connects the audit receivers)
        from facility_log.db_guards import install_guards_after_migrate

        post_migrate.connect(install_guards_after_migrate, sender=self)
        post_migrate.connect(seed_reference_data, sender=self)
        post_migrate.connect(create_cache_table, sender=self)

        from facility_log.services.alarm_counts import count_problems
        from facility_log.services.evidence import attachment_problems, orphan_file_problems
        from facility_log.services.verify import EXTRA_CHECKS

        EXTRA_CHECKS.extend([attachment_problems, orphan_file_problems, count_problems])

        from facility_log.models.access import AccessEvent, ImportBatch
        from facility_log.services.verify import BATCH_MEMBERS

        BATCH_MEMBERS[ImportBatch._meta.label_lower] = (AccessEvent, "batch_id")

        from facility_log import choice_labels

        choice_labels.install(self.get_models())


def seed_reference_data(sender, using, **kwargs) -> None:
    """Data every installation needs (the editable incident categories), created through the
    services after each migrate so it has history and ledger entries like any other record."""
    from facility_log.services.accounts import system_actor
    from facility_log.services.incidents import ensure_default_categories

    ensure_default_categories(system_actor())


def create_cache_table(sender, using, **kwargs) -> None:
    """With the database cache (CACHE_URL=db), `migrate` makes its table too, so a deployment
    needs no extra step; with any other cache this does nothing."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
