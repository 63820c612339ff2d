"""Machine-readable descriptions of public pages for search engines and link previews."""

import json

from django.utils.safestring import mark_safe

from directory.urls_util import web_url

# The characters that could end a <script> element or start markup, escaped as in
# django.utils.html.json_script.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def organization_jsonld(participant, request):
    """schema.org ``Organization`` of a participant, safe to put inside
    ``<script type="application/ld+json">``."""
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": participant.name,
        "url": request.build_absolute_uri(participant.get_absolute_url()),
    }
    other_name = participant.name_zh if participant.name == participant.name_en else participant.name_en
    optional = {
        "alternateName": other_name,
        "description": participant.description,
        "sameAs": web_url(participant.website),
        "foundingDate": str(participant.founded) if participant.founded else "",
        "logo": request.build_absolute_uri(participant.logo.url) if participant.logo else "",
        "keywords": ", ".join(t.name for t in participant.tags.all()),
    }
    data.update({key: value for key, value in optional.items() if value})
    if participant.country:
        data["address"] = {"@type": "PostalAddress", "addressCountry": participant.country}
    if participant.parent_id and participant.parent.is_published:
        data["parentOrganization"] = {"@type": "Organization", "name": participant.parent.name}
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_SCRIPT_ESCAPES))  # noqa: S308
