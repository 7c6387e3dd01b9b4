"""`{% tablet_procedures request.user as procedures %}`: the incident procedures the tablet
shows beside its incident form (services/procedures.py), for a template include that needs
nothing from the view that renders the page."""

from django import template

from facility_log.services import procedures

register = template.Library()


@register.simple_tag
def tablet_procedures(user) -> list[dict]:
    return procedures.tablet_procedures(user) if user.is_authenticated else []
