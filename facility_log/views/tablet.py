"""The guard's tablet: one offline-first page, its service worker and its manifest."""

from django.http import HttpResponse


def tablet_app(request):
    return HttpResponse("tablet")


def service_worker(request):
    return HttpResponse("", content_type="text/javascript")


def manifest(request):
    return HttpResponse("{}", content_type="application/manifest+json")
