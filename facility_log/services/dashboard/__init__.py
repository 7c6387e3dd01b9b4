"""The dashboard and the monthly site report: figures per site (or across a user's sites) for
a period of local days, drawn as server-side SVG and sent as PDF or CSV.

* `period` — the chosen period (from/to local days, presets) and its buckets;
* `figures` — the figures, from a fixed number of grouped queries however many records;
* `charts` — the SVG charts (currentColor and text labels: readable printed and dark);
* `report` — the monthly site report as PDF (WeasyPrint, everything inline) and CSV.

What each figure counts, and in which time zone: docs/dashboard.md.
"""

from facility_log.services.dashboard.figures import Dashboard, dashboard_figures
from facility_log.services.dashboard.period import Period, month_period, preset_period

__all__ = ["Dashboard", "Period", "dashboard_figures", "month_period", "preset_period"]
