import pytest

pytestmark = pytest.mark.django_db


def test_home_lists_tiers_and_segments_with_counts(client, small_chain, django_assert_max_num_queries):
    # segments with counts, total published participants (+ session/i18n overhead none)
    with django_assert_max_num_queries(3):
        response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for label in (
        "Upstream",
        "Midstream",
        "Downstream",
        "AI chips",
        "Foundation models",
        "Industry applications",
    ):
        assert label in body
    segments = {s.slug: s.participant_count for t in response.context["tiers"] for s in t["segments"]}
    assert segments["ai-chips"] == 2 and segments["foundation-models"] == 2 and segments["aigc-tools"] == 0
