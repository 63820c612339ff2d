"""Rate limiting of the read API.

Kept apart from ``api.py``: DRF resolves ``DEFAULT_THROTTLE_CLASSES`` while
``rest_framework.views`` is being imported, so this module must not import the views.
"""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class APIRateThrottle(AnonRateThrottle):
    """Anonymous clients, by IP address, limited to ``settings.API_THROTTLE_RATE``
    (e.g. ``"120/min"``; ``None`` turns throttling off), counted in Django's cache.

    DRF's own throttles copy their rates once at import, so the rate is read here on
    every request instead: a deployment (or ``override_settings`` in a test) changes it.
    """

    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE
