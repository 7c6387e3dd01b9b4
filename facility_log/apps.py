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

        from facility_log.services.evidence import attachment_problems
        from facility_log.services.verify import EXTRA_CHECKS

        EXTRA_CHECKS.append(attachment_problems)
