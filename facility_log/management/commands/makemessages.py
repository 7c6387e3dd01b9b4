"""Django's `makemessages`, also finding the messages the pages translate in Python through
their kept translations: `_t("…")` and `_blocktranslate("…", …)` (templatetags/
facility_log_tags.py) and the incident page's `page.bt("…", …)` (incident_page_body.py).
Without these keywords xgettext does not see them, and `make messages` (--no-obsolete)
would drop their German from the catalogue once no template uses the same message."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=_t",
        "--keyword=_blocktranslate",
        "--keyword=bt",
    ]
