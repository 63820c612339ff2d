"""Template helpers for links to addresses that participants and submitters gave."""

from django import template

from directory.urls_util import web_url

register = template.Library()


@register.filter
def safe_url(value):
    """The stored URL if it is ``http``/``https``, else "" — use it for every ``href``
    built from stored data: ``{% with url=o.url|safe_url %}{% if url %}<a href="{{ url }}">``."""
    return web_url(value)
