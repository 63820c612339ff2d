"""The client's address, as the submission limit, the API throttle and the admin lockout
see it.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies of our own (a load balancer, say),
``REMOTE_ADDR`` is the nearest proxy, the same for every visitor. Each proxy appends the
address it received from to ``X-Forwarded-For``, so the client is the entry that many
places from the right; entries further left were written by the client itself and are
not trusted. DRF's throttle applies the same rule (``NUM_PROXIES``, settings.py).
"""

import ipaddress

from django.conf import settings


def client_ip(request):
    """The client's IP address as a string, or None when the request has none (a login
    made in code, say: django-axes then records no address)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address: the proxy in front is not configured as we think
        return remote
