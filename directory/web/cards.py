"""Participant cards (partials/card.html) for a page of a listing."""

from django.template.loader import get_template
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from directory.catalog.cache import remember_each
from directory.countries import country_name
from directory.models import Kind, OpenSource, prefers_chinese

CARD_TEXT_LENGTH = 180  # characters of the description a card shows


class CardMaker:
    """Builds what a card shows as plain values (``values``): the template reads dict keys
    instead of resolving model attributes and filters (a card in 90 instead of 160 µs).
    What depends on the language and the URL scheme is decided once for a page of cards."""

    def __init__(self):
        self.chinese = prefers_chinese()
        # Slugs are made of characters URLs keep as they are (the ``slug`` path
        # converter), so the URL of one is the URL of "0" with the slug in its place.
        self.url_head, self.url_tail = reverse("directory:participant", args=["0"]).rsplit("0", 1)
        self.kinds = {value: str(label) for value, label in Kind.choices}
        self.licences = {value: str(label) for value, label in OpenSource.choices if value != OpenSource.NO}
        self.featured = _("Featured")
        self.segments_label = _("Segments")
        self.language = "zh-hans" if self.chinese else "en"

    def values(self, participant):
        """The card of ``participant`` (a ``CardRow`` with ``segments`` in chain order)."""
        chinese = self.chinese
        alternate, alternate_language = participant.alternate_name_for(chinese)
        text = participant.localized("description", chinese)
        segments = participant.segments
        return {
            "url": f"{self.url_head}{participant.slug}{self.url_tail}",
            "name": participant.localized("name", chinese),
            "alternate": alternate,
            "alternate_language": alternate_language,
            "logo_url": participant.logo_url,
            "monogram": participant.monogram_for(chinese),
            "tier": segments[0].tier if segments else "none",
            "country": country_name(participant.country, self.language) if participant.country else "",
            "kind": self.kinds.get(participant.kind, participant.kind),
            "open_source": self.licences.get(participant.open_source, ""),
            "featured": self.featured if participant.featured else "",
            "segments_label": self.segments_label,
            "text": text if len(text) <= CARD_TEXT_LENGTH else Truncator(text).chars(CARD_TEXT_LENGTH),
            "segments": [(s.tier, s.localized("name", chinese)) for s in segments],
            "badges": [
                k.localized("short", chinese) or k.localized("name", chinese) for k in participant.badges
            ],
        }


def cards(listing):
    """The cards of a listing's page as HTML, in order. Each card is kept per participant
    and language until the directory changes, so a page renders only the ones not yet
    seen on another page."""

    def render(missing):
        template = get_template("directory/partials/card.html")
        maker = CardMaker()
        wanted = set(missing)
        return {
            p.pk: template.render({"card": maker.values(p)}) for p in listing.participants if p.pk in wanted
        }

    found = remember_each("card", (get_language(),), listing.ids, render)
    return [found[pk] for pk in listing.ids if pk in found]
