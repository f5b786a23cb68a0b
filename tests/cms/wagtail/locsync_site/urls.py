"""Only API v3: the tests and the daemon need nothing else from the site."""
from __future__ import annotations

from django.urls import path
from wagtail.api.v3.urls import api

urlpatterns = [
    path("api/v3/", api.urls),
]
