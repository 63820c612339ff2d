"""JSON shapes of the read API: segments, and participants with everything public.

Only published participants ever appear: the views pass querysets of published
participants, and the relations of a participant (parent, suppliers, customers) are
prefetched through ``public_participants()`` filtered to published ones.
"""

import copy

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from directory.models import Offering, Participant, Record, Relationship, Segment, Source, Status, Tag


def _links():
    return Relationship.objects.select_related(
        "supplier", "customer", "supplied_segment", "customer_segment"
    ).prefetch_related("sources")


def public_participants(relationships=False):
    """Published participants with what their serializer reads prefetched: parent,
    offerings with their segments, tags and, when ``relationships``, the suppliers
    and customers that are published themselves.

    Queries: one for the page, then one each for offerings, tags (and suppliers,
    customers), whatever the number of participants.
    """
    queryset = (
        Participant.objects.published()
        .without_search_text()
        .select_related("parent")
        .prefetch_related(
            Prefetch("offerings", queryset=Offering.objects.select_related("segment")),
            "tags",
        )
    )
    if relationships:
        queryset = queryset.prefetch_related(
            Prefetch(
                "supplied_by",
                queryset=_links()
                .filter(supplier__status=Status.PUBLISHED)
                .order_by("kind", "supplier__name_en"),
                to_attr="public_suppliers",
            ),
            Prefetch(
                "supplies",
                queryset=_links()
                .filter(customer__status=Status.PUBLISHED)
                .order_by("kind", "customer__name_en"),
                to_attr="public_customers",
            ),
            Prefetch(
                "records",
                queryset=Record.objects.select_related("kind")
                .prefetch_related("sources")
                .order_by("kind__order", "-date"),
                to_attr="public_records",
            ),
        )
    return queryset


class _FieldsBuiltOnce:
    """A ModelSerializer whose fields are built from the model once per class, then
    copied for each instance (as DRF copies declared fields), instead of introspecting
    the model each time: a page of the API makes a serializer for participants, their
    offerings and their tags, and building their fields took a quarter of the time
    serialising the page took (6.0 -> 4.6 ms for 20 participants)."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return copy.deepcopy(built)


class SegmentSerializer(serializers.ModelSerializer):
    """A link of the chain, with the number of published participants in it."""

    parent = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="Parent segment's slug, if any."
    )
    participant_count = serializers.SerializerMethodField(
        help_text="Published participants with an offering in this segment or its sub-segments "
        "(the count of /api/participants/?segment=<slug>).",
    )

    class Meta:
        model = Segment
        fields = [
            "slug",
            "tier",
            "order",
            "name_en",
            "name_zh",
            "description_en",
            "description_zh",
            "parent",
            "participant_count",
        ]

    def get_participant_count(self, segment) -> int:
        return self.context["counts"].get(segment.pk, 0)


class TagSerializer(_FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["slug", "name"]


class OfferingSerializer(_FieldsBuiltOnce, serializers.ModelSerializer):
    """What a participant provides in one segment."""

    segment = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="Segment slug.")

    class Meta:
        model = Offering
        fields = ["segment", "name", "description", "url"]


class SourceSerializer(serializers.ModelSerializer):
    """Where a fact comes from; ``url`` only where the page was confirmed to exist."""

    class Meta:
        model = Source
        fields = ["publisher", "title", "published", "url", "checked"]


# Both ends of a link, as the links list gives them (a participant's own links name only
# the other end: ``_EndSerializer``).
LINK_SIDES = ("supplier", "supplier_name", "customer", "customer_name")


class RelationshipSerializer(serializers.ModelSerializer):
    """A link: ``supplier`` provides ``kind`` to ``customer`` (or a tie that is not
    supply: ``investment``, ``partnership``), with its status, dates, segments, evidence
    in both languages and sources."""

    supplier = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name_en", read_only=True)
    customer_name = serializers.CharField(source="customer.name_en", read_only=True)
    supplied_segment = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    customer_segment = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    is_supply = serializers.SerializerMethodField(help_text="False for investments and partnerships.")
    since = serializers.CharField(read_only=True, help_text="YYYY or YYYY-MM; empty when unknown.")
    until = serializers.CharField(read_only=True, help_text="YYYY or YYYY-MM; empty unless it ended or will.")
    sources = SourceSerializer(many=True, read_only=True)

    class Meta:
        model = Relationship
        fields = [
            *LINK_SIDES,
            "kind",
            "is_supply",
            "status",
            "since",
            "until",
            "supplied_segment",
            "customer_segment",
            "evidence",
            "evidence_zh",
            "sources",
        ]

    def get_is_supply(self, link) -> bool:
        return not link.is_tie


class _EndSerializer(RelationshipSerializer):
    """A link seen from one participant's page: ``participant``, ``name_en`` and
    ``name_zh`` name the other end."""

    other = None
    participant = serializers.SerializerMethodField(help_text="Slug of the participant at the other end.")
    name_en = serializers.SerializerMethodField()
    name_zh = serializers.SerializerMethodField()

    class Meta(RelationshipSerializer.Meta):
        # The other end instead of both ends, then the link's own fields.
        fields = [
            "participant",
            "name_en",
            "name_zh",
            *(f for f in RelationshipSerializer.Meta.fields if f not in LINK_SIDES),
        ]

    def get_participant(self, link) -> str:
        return getattr(link, self.other).slug

    def get_name_en(self, link) -> str:
        return getattr(link, self.other).name_en

    def get_name_zh(self, link) -> str:
        return getattr(link, self.other).name_zh


class SupplierLinkSerializer(_EndSerializer):
    """A link into the participant, from ``participant`` (its supplier or investor)."""

    other = "supplier"


class CustomerLinkSerializer(_EndSerializer):
    """A link out of the participant, to ``participant`` (its customer)."""

    other = "customer"


class _PlainIdentityField(serializers.HyperlinkedIdentityField):
    """The object's URL as a plain string. DRF's ``Hyperlink`` carries the model instance it
    was made from, so each cached copy of a participant's JSON pickled that participant
    with its offerings and tags (5 kB instead of 0.3 kB, and about 150 model instances
    unpickled for a page of the API)."""

    def to_representation(self, value):
        url = super().to_representation(value)
        return None if url is None else str(url)


class ParticipantSerializer(_FieldsBuiltOnce, serializers.ModelSerializer):
    """A published participant as listed: its own fields, tags and offerings."""

    url = _PlainIdentityField(
        view_name="api:participant-detail", lookup_field="slug", help_text="This participant in the API."
    )
    logo = serializers.ImageField(read_only=True, use_url=True, allow_null=True)
    parent = serializers.SerializerMethodField(help_text="Slug of the parent organisation, if published.")
    segments = serializers.SerializerMethodField(help_text="Slugs of the segments of its offerings.")
    tags = TagSerializer(many=True, read_only=True)
    offerings = OfferingSerializer(many=True, read_only=True)

    class Meta:
        model = Participant
        fields = [
            "slug",
            "url",
            "name_en",
            "name_zh",
            "description_en",
            "description_zh",
            "website",
            "country",
            "founded",
            "kind",
            "open_source",
            "logo",
            "parent",
            "segments",
            "tags",
            "offerings",
            "last_verified",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent(self, participant):
        parent = participant.parent
        return parent.slug if parent is not None and parent.is_published else None

    def get_segments(self, participant) -> list[str]:
        return list(dict.fromkeys(o.segment.slug for o in participant.offerings.all()))


class ParticipantDetailSerializer(ParticipantSerializer):
    """A published participant with its published suppliers (upstream) and customers
    (downstream)."""

    records = serializers.SerializerMethodField(
        help_text="Its compliance and risk records (see /api/records/)."
    )
    suppliers = SupplierLinkSerializer(
        source="public_suppliers", many=True, read_only=True, help_text="Links into it (supply and ties)."
    )
    customers = CustomerLinkSerializer(
        source="public_customers", many=True, read_only=True, help_text="Links out of it (supply and ties)."
    )

    class Meta(ParticipantSerializer.Meta):
        fields = [*ParticipantSerializer.Meta.fields, "suppliers", "customers", "records"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_records(self, participant):
        return RecordSerializer(participant.public_records, many=True).data


class ErrorSerializer(serializers.Serializer):
    """Every error answer: a sentence, and for malformed parameters the messages by parameter."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a 400: the messages for each malformed parameter.",
    )


class FlowSerializer(serializers.Serializer):
    """Active supply links from one top-level segment into another."""

    supplied_segment = serializers.CharField()
    customer_segment = serializers.CharField()
    links = serializers.IntegerField()
    with_the_flow = serializers.BooleanField(
        help_text="False when it runs against the chain's usual direction."
    )


class FlowsSerializer(serializers.Serializer):
    """The flows of /api/flows/: ``count`` flows holding ``total_links`` links."""

    count = serializers.IntegerField()
    total_links = serializers.IntegerField()
    results = FlowSerializer(many=True)


class GraphNodeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField()
    country = serializers.CharField()
    level = serializers.IntegerField(
        help_text="Steps from the participant: negative upstream, positive downstream."
    )
    segment = serializers.CharField(allow_null=True, help_text="The segment of what it supplies on the way.")


class GraphEdgeSerializer(serializers.Serializer):
    supplier = serializers.CharField()
    customer = serializers.CharField()
    kind = serializers.CharField()
    supplied_segment = serializers.CharField(allow_null=True)


class GraphSerializer(serializers.Serializer):
    """A participant's active supply dependencies, ``depth`` steps up and down."""

    participant = serializers.CharField()
    depth = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="True when a level had more participants than shown.")
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


class RecordSerializer(serializers.ModelSerializer):
    """A compliance or risk record as its authority published it, with its sources. No
    record says only that there is none in chainsite."""

    participant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    kind = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sources = SourceSerializer(many=True, read_only=True)

    class Meta:
        model = Record
        fields = [
            "participant",
            "kind",
            "authority",
            "identifier",
            "entity_name",
            "role",
            "status",
            "date",
            "end_date",
            "checked",
            "notes_en",
            "notes_zh",
            "sources",
        ]
