"""Every sentence the desk pages' scripts show, translated on the server and handed to the page
as JSON (like the tablet's, views/tablet_strings.py), so the scripts hold no English of their own.
`{% script_strings "group" %}` (templatetags/script_strings.py) writes a group as
`<script id="GROUP-strings" type="application/json">`; the scripts fill Django's named
placeholders, `%(name)s`, themselves. The `page` group is in base.html, for the scripts every
signed-in page loads (theme.js, tablet/outbox.js)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

SCRIPT_STRINGS = {
    # theme.js and tablet/outbox.js, on every page (base.html)
    "page": {
        "theme_dark": _("Dark theme"),
        "theme_light": _("Light theme"),
        "switch_to_dark": _("Switch to dark theme"),
        "switch_to_light": _("Switch to light theme"),
    },
    # static/facility_log/js/alarm_console.js (access/console.html)
    "alarm-console": {
        "acknowledged": _("Alarm #%(id)s acknowledged: %(note)s"),
        "not_acknowledged": _("Alarm #%(id)s not acknowledged: %(error)s"),
        "step_ticked": _("Alarm #%(id)s: step %(step)s ticked"),
        "step_not_ticked": _("Alarm #%(id)s: step %(step)s not ticked: %(error)s"),
        "procedure": _("Procedure: %(title)s"),
        "ticked_by": _("✓ ticked by %(user)s at %(time)s"),
        "tick_step": _("Tick step %(step)s"),
        "write_note": _("Or write a note"),
        "send": _("Send"),
        "tick_alarm": _("Tick alarm #%(id)s"),
        "last_scan": _("last scan %(time)s"),
        "guard": _("Guard: %(guard)s"),
        "note": _("Note: %(note)s"),
        "acknowledge": _("Acknowledge"),
        "open_alarm": _("Open alarm #%(id)s"),
        "count_open": _("%(count)s open"),
        "count_new": _("%(count)s new"),
        "count_acknowledged": _("%(count)s acknowledged"),
        "no_alarms": _("No open alarms."),
        "could_not_refresh": _("Could not refresh (%(error)s); retrying."),
    },
    # static/facility_log/js/access_import.js (access/import.html)
    "access-import": {
        "processing": _("Processing…"),
        "uploading": _(
            "Uploading, then checking every line and storing the events; large files are "
            "imported in the background and the next page shows their progress."
        ),
    },
    # static/facility_log/js/police_package.js (incidents/police_package.html)
    "police-package": {
        "making": _("Making the package; it is recorded in the disclosure log…"),
    },
}


def _sign_out_refused(count: int) -> str:
    """The outbox's refusal to sign out while items wait on the tablet, for `count` items."""
    return ngettext(
        "You cannot sign out yet: %(count)s item is still only on this tablet (%(kinds)s). "
        "Signing out would leave them behind. Connect to the network and wait until Unsynced "
        "shows 0, or show the refused items to your supervisor.",
        "You cannot sign out yet: %(count)s items are still only on this tablet (%(kinds)s). "
        "Signing out would leave them behind. Connect to the network and wait until Unsynced "
        "shows 0, or show the refused items to your supervisor.",
        count,
    )


def _plural_strings() -> dict[str, str]:
    """The sign-out refusal for one item and for several. English and German share the plural
    rule (one / not one), so the two forms are all the script needs to choose from."""
    return {
        "sign_out_refused_one": _sign_out_refused(1),
        "sign_out_refused_other": _sign_out_refused(2),
    }


def script_strings(group: str) -> dict[str, str]:
    """The strings of one group in the language of the current request."""
    strings = {key: str(text) for key, text in SCRIPT_STRINGS[group].items()}
    if group == "page":
        strings.update(_plural_strings())
    return strings
