"""The contract's routes, served by the sync or the async views (LAB_VIEWS)."""

from django.conf import settings
from django.urls import path

from bench import async_views, views

v = async_views if settings.LAB_VIEWS == "async" else views

urlpatterns = [
    path("plaintext", v.plaintext),
    path("json", v.json_message),
    path("io", v.io),
    path("cpu", v.cpu),
    path("fanout", v.fanout),
]

handler404 = "bench.contract.not_found"
