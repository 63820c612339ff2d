"""``{% language_alternates as alternates %}``: this page's address in each language, for
``<link rel="alternate" hreflang>`` (empty for a page without a language prefix)."""

from django import template
from django.conf import settings

from directory.web.language import alternates

register = template.Library()


@register.simple_tag(takes_context=True)
def language_alternates(context):
    request = context.get("request")
    return alternates(request, settings.LANGUAGES) if request is not None else []
