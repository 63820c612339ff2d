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


def web_url(value):
    """``value`` when it is an ``http``/``https`` address, else "".

    Forms, the importer and the models' validators accept nothing else, but a row
    written past them (a raw SQL fix, an old backup) must still never become a
    ``javascript:`` or ``data:`` link, so everything that renders a stored URL as a link
    passes it through here (the ``safe_url`` template filter).
    """
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value if value.lower().startswith(("http://", "https://")) else ""
