"""One process instead of four ``manage.py`` calls: superuser, locales, API token, a parent page.

Prints one JSON object: the token (shown once by Wagtail, stored only hashed), the user, the
locales (the default first) and the id of the English page new articles go under.
"""
from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from wagtail.models import APIToken, Locale, Page


class Command(BaseCommand):
    help = "Provision a fresh test database for locsync's Wagtail tests"

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True)

    def handle(self, *args, password, **options):
        user = get_user_model().objects.create_superuser("admin", "admin@example.com", password)
        default = Locale.get_default()
        for code in ("de", "fr"):
            Locale.objects.get_or_create(language_code=code)
        _, token = APIToken.create_token(user=user, name="locsync-tests")
        # the page Wagtail's migrations create under the root (the default site's home), English
        home = Page.get_first_root_node().get_children().first()
        others = Locale.objects.exclude(pk=default.pk).values_list("language_code", flat=True)
        locales = [default.language_code, *sorted(others)]
        self.stdout.write(
            json.dumps({"token": token, "user": "admin", "locales": locales, "parentId": home.pk})
        )
