"""Cache invalidation on commit: the one side effect we keep in signals (STYLE.md).

Any committed change to what public pages show starts a new cache generation."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .caching import bump_generation
from .models import Offering, Participant, Relationship, Segment, Tag


def _changed(sender, **kwargs):
    transaction.on_commit(bump_generation, robust=True)


def connect():
    for model in (Segment, Participant, Offering, Relationship, Tag):
        post_save.connect(_changed, sender=model, dispatch_uid=f"cache-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"cache-{model.__name__}-delete")
    m2m_changed.connect(_changed, sender=Participant.tags.through, dispatch_uid="cache-participant-tags")
