from facility_log.models import Membership


def navigation(request):
    """The signed-in user's active memberships, for the header. Lazy: pages that do not
    show them do not query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("site")
            .order_by("site__code", "role")
        )

    return {"my_memberships": memberships}
