"""Full-text search over participants, in one place for every reader.

Each participant keeps denormalised search text in three weight classes: names (A),
tags, offerings and segments (B), descriptions (C). Chinese has no spaces between words,
so the stored text and the queries both carry overlapping CJK bigrams (``芯片设计`` ->
``芯片 片设 设计``, the approach of Lucene's CJK analyser): a Chinese query then matches
inside longer Chinese text, and a word in any other script matches whole words only.

- PostgreSQL: a weighted ``tsvector`` in ``Participant.search_vector`` with a GIN index,
  queried with ``websearch`` syntax.
- SQLite: an FTS5 table over the same three columns, kept in step by triggers
  (migration 0012), queried with the same syntax translated to FTS5 and ranked by bm25.

On both, relevance puts name matches first, then tag and offering matches, then the
rest, each group by the database's own rank (``ranked``). A query that finds nothing
gets the nearest participant names (``suggestions``: trigram similarity on PostgreSQL,
edit distance on SQLite).
"""

import re
import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL

from directory.catalog.cache import kept_in_process, remember

MAX_QUERY_LENGTH = 200
SUGGESTIONS = 5
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_WORD = re.compile(f"[{_CJK}]+|[^\\W_]+(?:[.+#-][^\\W_]+)*[+#]*", re.UNICODE)
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
FTS_TABLE = "directory_participant_fts"
# bm25 weights of the FTS5 columns: names, terms (tags, offerings, segments), body.
FTS_WEIGHTS = "10.0, 4.0, 1.0"
_FTS_IDS = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
_FTS_HIT = f"directory_participant.id IN ({_FTS_IDS})"
_FTS_RANK = (
    f"SELECT -bm25({FTS_TABLE}, {FTS_WEIGHTS}) FROM {FTS_TABLE} "
    f"WHERE {FTS_TABLE} MATCH %s AND rowid = directory_participant.id"
)


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


def _grams(text):
    """The words of ``text`` as the index stores them: CJK runs as their bigrams."""
    return [g for w in _WORD.findall(text) for g in (cjk_bigrams(w) if _CJK_RUN.fullmatch(w) else [w])]


def _terms(q):
    """``(negated, phrase, words)`` for each term of a web-search query: quoted phrases
    keep their words together, ``-`` excludes, a Chinese word becomes its bigrams."""
    for match in _TERM.finditer(q):
        quoted = match.group(2) is not None
        negated = bool(match.group(1) if quoted else match.group(3))
        words = _grams(match.group(2) if quoted else match.group(4))
        if words:
            yield negated, quoted, words


def _tsquery_text(q):
    """The query in websearch syntax with Chinese words as their bigrams (all required)."""
    out = []
    for negated, quoted, words in _terms(q):
        sign = "-" if negated else ""
        out.append(f'{sign}"{" ".join(words)}"' if quoted else " ".join(f"{sign}{w}" for w in words))
    return " ".join(out)


def fts_query(q):
    """The query as an FTS5 expression (every word a quoted string, so no word is read as
    an operator), or "" when it has no word to look for."""

    def phrase(words):
        return '"' + " ".join(w.replace('"', '""') for w in words) + '"'

    wanted, unwanted = [], []
    for negated, quoted, words in _terms(q):
        phrases = [phrase(words)] if quoted else [phrase([w]) for w in words]
        (unwanted if negated else wanted).extend(phrases)
    if not wanted:
        return ""
    return " AND ".join(wanted) + "".join(f" NOT {p}" for p in unwanted)


_FTS_COLUMNS = "search_names, search_terms, search_body"
_FTS_TRIGGERS = {
    "insert": f"AFTER INSERT ON directory_participant BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FTS_COLUMNS}) "
    "VALUES (new.id, new.search_names, new.search_terms, new.search_body); END",
    "delete": f"AFTER DELETE ON directory_participant BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FTS_COLUMNS}) "
    "VALUES ('delete', old.id, old.search_names, old.search_terms, old.search_body); END",
    "update": f"AFTER UPDATE OF {_FTS_COLUMNS} ON directory_participant BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FTS_COLUMNS}) "
    "VALUES ('delete', old.id, old.search_names, old.search_terms, old.search_body); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FTS_COLUMNS}) "
    "VALUES (new.id, new.search_names, new.search_terms, new.search_body); END",
}


def ensure_fts(connection_):
    """SQLite: the FTS5 table over the participants' search text and the triggers that
    keep it in step, rebuilt from the table when a trigger was missing. Run after every
    migration (``apps.py``): SQLite rebuilds a table to alter it, and the rebuilt
    ``directory_participant`` has lost its triggers. Does nothing on other databases."""
    if connection_.vendor != "sqlite":
        return
    with connection_.cursor() as cursor:
        if "directory_participant" not in connection_.introspection.table_names(cursor):
            return
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_FTS_COLUMNS}, "
            "content='directory_participant', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        existing = {name for (name,) in cursor.fetchall()}
        missing = [name for name in _FTS_TRIGGERS if f"{FTS_TABLE}_{name}" not in existing]
        for name in missing:
            cursor.execute(f"CREATE TRIGGER {FTS_TABLE}_{name} {_FTS_TRIGGERS[name]}")
        if missing:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def search_vector_expression(names="search_names", terms="search_terms", body="search_body"):
    """The weighted vector stored in ``search_vector`` (PostgreSQL only), by default
    from the row's own denormalised columns."""
    return (
        SearchVector(names, weight="A", config="simple")
        + SearchVector(terms, weight="B", config="simple")
        + SearchVector(body, weight="C", config="simple")
    )


def matches(queryset, q):
    """``queryset`` limited to the participants matching ``q``, as rows of ``(pk, name hit,
    terms hit, rank, name_en)`` (a higher rank is better), in no particular order; None
    when ``q`` has no word to look for."""
    if connection.vendor == "postgresql":
        text = _tsquery_text(q)
        if not text:
            return None
        query = SearchQuery(text, search_type="websearch", config="simple")
        vector = F("search_vector")
        return (
            queryset.filter(search_vector=query)
            .annotate(
                _name=SearchRank(vector, query, weights=[0, 0, 0, 1]),
                _terms=SearchRank(vector, query, weights=[0, 0, 1, 0]),
                _rank=SearchRank(vector, query),
            )
            .order_by()
            .values_list("pk", "_name", "_terms", "_rank", "name_en")
        )
    expression = fts_query(q)
    if not expression:
        return None
    # The FTS5 statements are constants; the user's words only ever go in as parameters.
    return (
        queryset.filter(pk__in=RawSQL(_FTS_IDS, [expression]))  # noqa: S611
        .annotate(
            _name=RawSQL(_FTS_HIT, [f"search_names : ({expression})"]),  # noqa: S611
            _terms=RawSQL(_FTS_HIT, [f"search_terms : ({expression})"]),  # noqa: S611
            _rank=RawSQL(_FTS_RANK, [expression]),  # noqa: S611
        )
        .order_by()
        .values_list("pk", "_name", "_terms", "_rank", "name_en")
    )


def _hit(rank):
    return bool(rank) and rank > 1e-12


def ranked(queryset, q, limit=None):
    """Ids of the participants of ``queryset`` matching ``q``, best first (name matches,
    then tag and offering matches, then the rest; each by rank, then name), and whether
    more than ``limit`` matched: ``(ids, truncated)``.

    With a ``limit``, the first ``limit`` matches in the table's own order are ranked:
    ranking every match of a common word reads every matching row (about 37,000 for
    "data" among 100,000 participants, a third of a second)."""
    rows = matches(queryset, clean_query(q))
    if rows is None:
        return [], False
    rows = list(rows if limit is None else rows[: limit + 1])
    truncated = limit is not None and len(rows) > limit
    # PostgreSQL's ts_rank never gives a match 0 (at least 1e-20), even with the weight of
    # every class it matched set to 0: a class counts as hit above that floor.
    rows = sorted(rows[:limit], key=lambda r: (not _hit(r[1]), not _hit(r[2]), -(r[3] or 0), r[4], r[0]))
    return [row[0] for row in rows], truncated


def window(queryset, q):
    """``ranked`` within the ``SEARCH_WINDOW`` setting, kept per query and filter until
    the directory changes, so the next pages of a search cost no search."""
    q = clean_query(q)
    return remember(
        "search-window", (str(queryset.query), q), lambda: ranked(queryset, q, settings.SEARCH_WINDOW)
    )


def suggestions(queryset, q, limit=SUGGESTIONS):
    """Up to ``limit`` participants of ``queryset`` whose names are nearest to ``q`` (a
    typo such as ``NVIDA`` offers NVIDIA): ``[(slug, name_en, name_zh)]``."""
    q = clean_query(q)
    if not q:
        return []

    def compute():
        if connection.vendor == "postgresql":
            rows = (
                queryset.filter(search_names__trigram_word_similar=q)
                .annotate(_similarity=TrigramWordSimilarity(q, "search_names"))
                .order_by("-_similarity", "name_en")
                .values_list("slug", "name_en", "name_zh")[:limit]
            )
            return list(rows)
        return _nearest_names(queryset, q, limit)

    return remember("suggestions", (str(queryset.query), q, limit), compute)


def _nearest_names(queryset, q, limit):
    """By edit distance between ``q`` and each name (either language), at most a third
    of the query's length apart."""
    names = kept_in_process(
        f"names:{queryset.query}", lambda: list(queryset.values_list("slug", "name_en", "name_zh"))
    )
    most = max(1, len(q) // 3)
    scored = []
    for slug, name_en, name_zh in names:
        best = min(
            (
                _distance(q, normalise(n), most)
                for n in (name_en, name_zh)
                if n and abs(len(n) - len(q)) <= most
            ),
            default=most + 1,
        )
        if best <= most:
            scored.append((best, name_en or name_zh, slug, name_en, name_zh))
    scored.sort()
    return [(slug, en, zh) for _, _, slug, en, zh in scored[:limit]]


def _distance(a, b, most):
    """Levenshtein distance between ``a`` and ``b``, or ``most + 1`` once it exceeds ``most``."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > most:
            return most + 1
        previous = current
    return previous[-1]


def refresh_search_index(participant_ids):
    """Rebuild the denormalised search text of the given participants from their names,
    descriptions, tags, offerings and segments; on PostgreSQL also the stored vector (on
    SQLite the FTS5 table follows by its triggers).

    Call it after any write that changes what a participant is found by (import,
    approval, admin save, synthetic data). It also keeps the Chinese sort key
    (``chinese_sort_key``) for writes that bypass ``Participant.save``.
    """
    from directory.models import Participant, chinese_sort_key

    ids = list(participant_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        participants = Participant.objects.filter(pk__in=chunk).prefetch_related("tags", "offerings__segment")
        rows = []
        for p in participants:
            offerings = list(p.offerings.all())
            segments = {o.segment for o in offerings}
            p.search_names = index_text(p.name_en, p.name_zh, p.slug.replace("-", " "))
            p.name_sort_zh = chinese_sort_key(p.name_zh, p.name_en)
            p.search_terms = index_text(
                *(t.name for t in p.tags.all()),
                *(o.name for o in offerings),
                *(f"{s.name_en} {s.name_zh}" for s in segments),
            )
            p.search_body = index_text(
                p.description_en, p.description_zh, *(o.description for o in offerings)
            )
            rows.append(p)
        Participant.objects.bulk_update(rows, ["search_names", "search_terms", "search_body", "name_sort_zh"])
        if connection.vendor == "postgresql":
            Participant.objects.filter(pk__in=chunk).update(search_vector=search_vector_expression())
