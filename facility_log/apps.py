from django.apps import AppConfig


class FacilityLogConfig(AppConfig):
    name = "facility_log"
    verbose_name = "Facility log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facility_log import signals  # noqa: F401  (connects the audit receivers)
