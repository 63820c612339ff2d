"""Searching ranks and matches words on both databases (directory/catalog/search.py):
name matches first, then tags and offerings, then descriptions; a word matches words,
not the inside of other words (Chinese excepted); a search that finds nothing suggests
the nearest names."""

import pytest
from django.db import connection

from directory.catalog.search import ensure_fts, fts_query

from .conftest import make_participant, page_slugs

pytestmark = pytest.mark.django_db


@pytest.fixture
def words(db):
    make_participant(
        "envicool", ("energy-power",), name_en="Envicool", description_en="Liquid cooling and energy storage."
    )
    make_participant(
        "ragstack", ("knowledge-base",), name_en="RAG Stack", description_en="An open-source engine."
    )
    tagged = make_participant(
        "vectorhub", ("knowledge-base",), name_en="VectorHub", description_en="Vector search."
    )
    from directory.catalog.search import refresh_search_index
    from directory.models import Tag

    tagged.tags.add(Tag.objects.create(slug="rag", name="RAG"))
    refresh_search_index([tagged.pk])
    make_participant(
        "docu", ("knowledge-base",), name_en="Docu", description_en="Documents for rag pipelines."
    )
    make_participant("nvidia", name_en="NVIDIA", name_zh="英伟达", description_en="GPUs.")


def _found(client, q, **params):
    response = client.get("/participants/", {"q": q, **params})
    assert response.status_code == 200
    return page_slugs(response.context["listing"])


def test_a_word_matches_words_not_the_inside_of_others(client, words):
    found = _found(client, "rag")
    assert "envicool" not in found  # "storage" contains "rag"
    assert set(found) == {"ragstack", "vectorhub", "docu"}


def test_relevance_puts_names_first_then_tags_then_descriptions(client, words):
    assert _found(client, "rag") == ["ragstack", "vectorhub", "docu"]
    # Choosing "Relevance" explicitly is the same order; another order is that order.
    assert _found(client, "rag", ordering="relevance") == ["ragstack", "vectorhub", "docu"]
    assert _found(client, "rag", ordering="name") == ["docu", "ragstack", "vectorhub"]


def test_chinese_matches_inside_longer_chinese_text(client, words):
    assert _found(client, "伟达") == ["nvidia"]


def test_a_search_that_finds_nothing_suggests_the_nearest_names(client, words):
    response = client.get("/participants/", {"q": "NVIDA"})
    body = response.content.decode()
    assert response.context["listing"].total == 0
    assert 'Did you mean: <a href="/participants/nvidia/">NVIDIA</a>' in body
    assert "Did you mean" not in client.get("/participants/", {"q": "nvidia"}).content.decode()


def test_query_syntax_becomes_fts_strings_never_operators():
    assert fts_query('gpu "vector database" -cloud') == '"gpu" AND "vector database" NOT "cloud"'
    assert fts_query("芯片设计") == '"芯片" AND "片设" AND "设计"'
    assert fts_query('NEAR(a b) OR "x') == '"NEAR" AND "a" AND "b" AND "OR" AND "x"'
    assert fts_query("-only -negative") == ""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_the_search_table_is_repaired_after_a_migration_rebuilds_the_participants(client, db):
    # SQLite rebuilds a table to alter it, which drops its triggers; every migrate ends
    # by putting them back and re-reading the table.
    with connection.cursor() as cursor:
        for name in ("insert", "delete", "update"):
            cursor.execute(f"DROP TRIGGER directory_participant_fts_{name}")
    make_participant("cerebras", name_en="Cerebras")
    assert _found(client, "cerebras") == []
    ensure_fts(connection)
    assert _found(client, "cerebras") == ["cerebras"]
    make_participant("groq", name_en="Groq")
    assert _found(client, "groq") == ["groq"]
