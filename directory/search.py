"""Full-text search over participants, in one place for the listing and the API.

PostgreSQL: a weighted ``tsvector`` (names A, tags/offerings/segments B, descriptions C)
stored in ``Participant.search_vector`` with a GIN index, queried with ``websearch``
syntax and ranked with ``SearchRank``. PostgreSQL's parser does not split Chinese words,
so the stored text and the query both carry overlapping CJK bigrams (``芯片设计`` ->
``芯片 片设 设计``), the approach of Lucene's CJK analyser: a Chinese query then matches
inside longer Chinese text and still uses the index.

Other databases (SQLite): substring matching over the same denormalised text, with
name matches ranked first.
"""

import re
import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When

from .caching import cached_value

MAX_QUERY_LENGTH = 200
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_WORD = re.compile(f"[{_CJK}]+|[^\\W_]+(?:[.+#-][^\\W_]+)*[+#]*", re.UNICODE)


def normalise(text):
    """Fold width and case, drop control and direction marks: the form both stored text
    and queries take before matching."""
    text = unicodedata.normalize("NFKC", text or "")
    return _CONTROL.sub(" ", text).casefold()


def cjk_bigrams(text):
    """Overlapping bigrams of every run of CJK characters (a lone character stays)."""
    grams = []
    for run in _CJK_RUN.findall(text):
        grams.extend([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    return grams


def index_text(*parts):
    """Searchable text for one weight class: the normalised text plus its CJK bigrams."""
    text = normalise(" ".join(p for p in parts if p))
    return " ".join([text, *cjk_bigrams(text)]).strip()


def clean_query(q):
    """A user's query, normalised and capped; empty when nothing searchable is left."""
    return " ".join(normalise(q)[:MAX_QUERY_LENGTH].split())


def _tsquery_text(q):
    """Turn a query into websearch syntax where Chinese words become their bigrams
    (all required) and other words stay as typed; quotes and ``-`` keep their meaning."""
    out = []
    for token in q.split():
        if _CJK_RUN.search(token):
            words = _WORD.findall(token)
            out.extend(g for w in words for g in (cjk_bigrams(w) if _CJK_RUN.fullmatch(w) else [w]))
        else:
            out.append(token)
    return " ".join(out)


def search_vector_expression(names="search_names", terms="search_terms", body="search_body"):
    """The weighted vector stored in ``search_vector`` (PostgreSQL only), by default
    from the row's own denormalised columns."""
    return (
        SearchVector(names, weight="A", config="simple")
        + SearchVector(terms, weight="B", config="simple")
        + SearchVector(body, weight="C", config="simple")
    )


def search(queryset, q):
    """Filter ``queryset`` of participants by the free-text query ``q``, annotated with
    ``search_rank`` (higher is better) so callers can order by relevance."""
    q = clean_query(q)
    if not q:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(_tsquery_text(q), search_type="websearch", config="simple")
        return queryset.filter(search_vector=query).annotate(
            search_rank=SearchRank(F("search_vector"), query)
        )
    words = [w for w in q.replace('"', " ").split() if not w.startswith("-")][:10] or [q]
    condition = Q()
    for word in words:
        condition &= (
            Q(search_names__contains=word) | Q(search_terms__contains=word) | Q(search_body__contains=word)
        )
    name_hit = Q()
    for word in words:
        name_hit &= Q(search_names__contains=word)
    return queryset.filter(condition).annotate(
        search_rank=Case(When(name_hit, then=Value(2)), default=Value(1), output_field=IntegerField())
    )


def search_window(queryset, q):
    """Ids of at most ``SEARCH_WINDOW`` (a setting) participants of ``queryset`` matching
    ``q``, best first (rank, then name), and whether more matched: ``(ids, truncated)``.

    Ranking or counting every match of a common word reads every matching row (about
    37,000 for "data" among 100,000 participants, a third of a second), so the listing
    and the API rank, count and facet the first ``SEARCH_WINDOW`` matches in the table's
    own order only. A word matching fewer participants is searched exactly; a common one
    says that it was cut (docs/browsing.md). The rank is computed in the same pass, so a
    page of results is then fetched by id. The window is kept per query and filter until
    the directory changes, so the next pages of a search cost no search.
    """
    q = clean_query(q)
    return cached_value("search-window", (str(queryset.query), q), lambda: _window(queryset, q))


def _window(queryset, q):
    size = settings.SEARCH_WINDOW
    rows = list(search(queryset, q).order_by().values_list("pk", "search_rank", "name_en")[: size + 1])
    truncated = len(rows) > size
    rows = sorted(rows[:size], key=lambda row: (-row[1], row[2], row[0]))
    return [pk for pk, _, _ in rows], truncated


def refresh_search_index(participant_ids):
    """Rebuild the denormalised search text of the given participants from their names,
    descriptions, tags, offerings and segments; on PostgreSQL also the stored vector.

    Call it after any write that changes what a participant is found by (import,
    approval, admin save, synthetic data).
    """
    from .models import Participant

    ids = list(participant_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        participants = Participant.objects.filter(pk__in=chunk).prefetch_related("tags", "offerings__segment")
        rows = []
        for p in participants:
            offerings = list(p.offerings.all())
            segments = {o.segment for o in offerings}
            p.search_names = index_text(p.name_en, p.name_zh, p.slug.replace("-", " "))
            p.search_terms = index_text(
                *(t.name for t in p.tags.all()),
                *(o.name for o in offerings),
                *(f"{s.name_en} {s.name_zh}" for s in segments),
            )
            p.search_body = index_text(
                p.description_en, p.description_zh, *(o.description for o in offerings)
            )
            rows.append(p)
        Participant.objects.bulk_update(rows, ["search_names", "search_terms", "search_body"])
        if connection.vendor == "postgresql":
            Participant.objects.filter(pk__in=chunk).update(search_vector=search_vector_expression())
