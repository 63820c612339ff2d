"""Atom feed of the most recently published participants."""

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from directory import catalog

FEED_SIZE = 30


class RecentParticipantsFeed(Feed):
    """The newest published participants; entries link to their pages."""

    feed_type = Atom1Feed
    title = _("chainsite: recently published participants")
    subtitle = _("New organisations in the directory of the LLM industry chain.")
    link = reverse_lazy("directory:participants")

    def items(self):
        return catalog.recently_published(FEED_SIZE)

    def item_title(self, participant):
        return participant.name

    def item_description(self, participant):
        return Truncator(participant.description).chars(400)

    def item_pubdate(self, participant):
        return participant.published_at or participant.created_at

    def item_updateddate(self, participant):
        return participant.updated_at
