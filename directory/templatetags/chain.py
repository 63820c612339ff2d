"""Template helpers for the chain's links."""

from django import template

register = template.Library()


@register.filter
def single_source(link, links):
    """Whether ``link`` is its customer's only active supplier of its supplied segment
    (``links``: the customer's ``catalog.links.ParticipantLinks``)."""
    return links.is_single_source(link)


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (``None`` when missing)."""
    return mapping.get(key)
