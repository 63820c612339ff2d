"""The ten canonical segments exist in every database, created by a data migration."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from directory.models import Segment

CANONICAL = {
    "energy-power": "upstream",
    "ai-chips": "upstream",
    "cloud-compute": "upstream",
    "foundation-models": "midstream",
    "training-tuning": "midstream",
    "data-services": "midstream",
    "knowledge-base": "downstream",
    "agent-platforms": "downstream",
    "aigc-tools": "downstream",
    "industry-apps": "downstream",
}


@pytest.mark.django_db
def test_the_ten_segments_exist_with_tiers_and_both_languages():
    segments = {s.slug: s for s in Segment.objects.all()}
    assert {slug: s.tier for slug, s in segments.items()} == CANONICAL
    for segment in segments.values():
        assert segment.name_en and segment.name_zh and segment.description_en and segment.description_zh
    assert segments["ai-chips"].name_zh == "算力芯片"
    assert [s.slug for s in Segment.objects.all()][:3] == ["energy-power", "ai-chips", "cloud-compute"]


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_creates_them_from_scratch():
    executor = MigrationExecutor(connection)
    executor.migrate([("directory", "0001_initial")])
    old_apps = executor.loader.project_state([("directory", "0001_initial")]).apps
    old_apps.get_model("directory", "Segment").objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(Segment.objects.values_list("slug", flat=True)) == set(CANONICAL)
