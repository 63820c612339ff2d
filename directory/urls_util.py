"""Helpers for the websites participants give."""

from urllib.parse import urlsplit


def domain_of(url):
    """The host of ``url`` without ``www.``, lowercased: ``https://www.NVIDIA.com/x`` -> ``nvidia.com``."""
    if not url:
        return ""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host
