"""Synthetic benchmark data: realistic-looking participants, clearly marked.

Every synthetic participant has ``is_synthetic=True``, a slug starting with ``syn-``, a
website under the reserved ``example.com`` domain and the tag ``synthetic``, so it can
never be mistaken for, or mixed into, the real data; ``clear_synthetic()`` removes them all.
"""

import random
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, transaction
from django.utils import timezone

from directory.catalog.cache import directory_changed
from directory.catalog.search import index_text
from directory.csvio.common import analyze
from directory.models import (
    TIER_ORDER,
    Offering,
    Participant,
    Relationship,
    Segment,
    Source,
    Tag,
    chinese_sort_key,
)

SLUG_PREFIX = "syn-"
# Rough shape of the real market: many more application and tool makers than chip makers.
SEGMENT_WEIGHTS = {
    "energy-power": 4,
    "ai-chips": 4,
    "cloud-compute": 8,
    "foundation-models": 6,
    "training-tuning": 10,
    "data-services": 12,
    "knowledge-base": 12,
    "agent-platforms": 14,
    "aigc-tools": 14,
    "industry-apps": 16,
}
COUNTRY_WEIGHTS = {
    "US": 34, "CN": 28, "GB": 6, "DE": 4, "FR": 4, "IL": 3, "CA": 3, "JP": 3, "KR": 3,
    "SG": 3, "IN": 3, "NL": 1, "SE": 1, "CH": 1, "TW": 1, "AE": 1, "AU": 1,
}  # fmt: skip
EN_STEMS = [
    "Nova", "Quanta", "Vector", "Helix", "Lumen", "Cirrus", "Atlas", "Orbit", "Pioneer", "Summit",
    "Cobalt", "Aurora", "Meridian", "Nimbus", "Polar", "Vertex", "Zenith", "Apex", "Beacon", "Cedar",
    "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Kepler", "Lattice", "Mosaic",
]  # fmt: skip
EN_SUFFIXES = [
    "AI",
    "Labs",
    "Systems",
    "Technologies",
    "Data",
    "Compute",
    "Intelligence",
    "Works",
    "Cloud",
    "Logic",
]
ZH_STEMS = [
    "星辰", "量子", "向量", "螺旋", "光明", "云端", "天图", "轨道", "先锋", "峰顶",
    "钴蓝", "极光", "子午", "雨云", "北极", "顶点", "天顶", "巅峰", "灯塔", "雪松",
    "三角", "余烬", "猎鹰", "花岗", "港湾", "虹膜", "杜松", "开普勒", "晶格", "马赛克",
]  # fmt: skip
ZH_SUFFIXES = ["智能", "实验室", "系统", "科技", "数据", "算力", "智算", "工坊", "云", "逻辑"]
SEGMENT_VOCABULARY = {
    "energy-power": (
        ["liquid cooling", "power distribution", "UPS systems", "green energy", "data centre power"],
        ["液冷散热", "配电系统", "不间断电源", "绿色能源", "数据中心供电"],
    ),
    "ai-chips": (
        ["GPU accelerators", "inference chips", "HBM memory", "NPU design", "high-speed interconnect"],
        ["GPU加速卡", "推理芯片", "高带宽内存", "NPU设计", "高速互连"],
    ),
    "cloud-compute": (
        ["GPU cloud", "compute scheduling", "bare-metal clusters", "inference hosting", "data centres"],
        ["GPU云服务", "算力调度", "裸金属集群", "推理托管", "数据中心"],
    ),
    "foundation-models": (
        [
            "large language models",
            "multimodal models",
            "open-weight models",
            "reasoning models",
            "pretraining",
        ],
        ["大语言模型", "多模态模型", "开源权重模型", "推理模型", "预训练"],
    ),
    "training-tuning": (
        ["fine-tuning", "model evaluation", "MLOps pipelines", "distributed training", "experiment tracking"],
        ["模型微调", "模型评测", "机器学习运维", "分布式训练", "实验管理"],
    ),
    "data-services": (
        ["data labelling", "data cleaning", "licensed datasets", "speech corpora", "synthetic data"],
        ["数据标注", "数据清洗", "授权数据集", "语音语料", "合成数据"],
    ),
    "knowledge-base": (
        [
            "vector database",
            "retrieval-augmented generation",
            "enterprise search",
            "document parsing",
            "embeddings",
        ],
        ["向量数据库", "检索增强生成", "企业搜索", "文档解析", "向量嵌入"],
    ),
    "agent-platforms": (
        [
            "agent framework",
            "workflow automation",
            "tool calling",
            "multi-agent orchestration",
            "agent hosting",
        ],
        ["智能体框架", "工作流自动化", "工具调用", "多智能体编排", "智能体托管"],
    ),
    "aigc-tools": (
        ["image generation", "video generation", "voice synthesis", "code assistant", "copywriting"],
        ["图像生成", "视频生成", "语音合成", "代码助手", "文案写作"],
    ),
    "industry-apps": (
        [
            "legal research",
            "medical documentation",
            "financial analysis",
            "education tutoring",
            "customer service",
        ],
        ["法律检索", "医疗文书", "金融分析", "教育辅导", "智能客服"],
    ),
}


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _participant(rng, number, segments):
    en = f"{rng.choice(EN_STEMS)} {rng.choice(EN_STEMS)} {rng.choice(EN_SUFFIXES)} {number}"
    zh = f"{rng.choice(ZH_STEMS)}{rng.choice(ZH_SUFFIXES)}{number}"
    main = segments[0]
    en_words, zh_words = SEGMENT_VOCABULARY[main.slug]
    focus = rng.sample(range(len(en_words)), 2)
    description_en = (
        f"Synthetic benchmark organisation working on {en_words[focus[0]]} and {en_words[focus[1]]} "
        f"in the {main.name_en.lower()} segment."
    )
    description_zh = f"合成测试数据：一家从事{zh_words[focus[0]]}和{zh_words[focus[1]]}的{main.name_zh}企业。"
    now = timezone.now()
    offerings = {}
    for segment in segments:
        words_en, words_zh = SEGMENT_VOCABULARY[segment.slug]
        i = rng.randrange(len(words_en))
        offerings[(segment.pk, i)] = (segment, f"{en.split()[0]} {words_en[i]} ({words_zh[i]})")
    offerings = list(offerings.values())
    segments = list(dict.fromkeys(segments))
    participant = Participant(
        slug=f"{SLUG_PREFIX}{number:07d}",
        name_en=en,
        name_zh=zh,
        description_en=description_en,
        description_zh=description_zh,
        website=f"https://syn-{number}.example.com/",
        website_domain=f"syn-{number}.example.com",
        country=_weighted(rng, COUNTRY_WEIGHTS),
        founded=rng.randint(1990, now.year),
        kind=rng.choice(["vendor", "vendor", "service", "both", "open_source", "research"]),
        open_source=rng.choice(["no", "no", "no", "partly", "yes"]),
        featured=rng.random() < 0.01,
        is_synthetic=True,
        created_at=now,
        updated_at=now - timezone.timedelta(minutes=rng.randrange(500_000)),
        published_at=now,
    )
    participant.search_names = index_text(en, zh)
    participant.name_sort_zh = chinese_sort_key(zh, en)
    participant.search_terms = index_text(
        "synthetic", *(name for _, name in offerings), *(f"{s.name_en} {s.name_zh}" for s in segments)
    )
    participant.search_body = index_text(description_en, description_zh)
    return participant, offerings


def _build_batch(rng, numbers, segments):
    """Unsaved participants with their (segment, offering name) pairs."""
    by_tier = {tier: [s for s in segments.values() if s.tier == tier] for tier in TIER_ORDER}
    all_segments = list(segments.values())
    rows = []
    for number in numbers:
        main = segments[_weighted(rng, SEGMENT_WEIGHTS)]
        # 1-4 offerings (about three on average): mostly in the main segment's tier,
        # sometimes in another link of the chain.
        chosen = [main]
        for _ in range(rng.choices([0, 1, 2, 3], weights=[15, 20, 25, 40])[0]):
            chosen.append(rng.choice(by_tier[main.tier]) if rng.random() < 0.8 else rng.choice(all_segments))
        rows.append(_participant(rng, number, chosen))
    return rows


def generate_synthetic(count, batch_size=5000, seed=1, progress=None):
    """Add ``count`` synthetic participants with 1–4 offerings each and about two
    relationships each, mostly between adjacent tiers. Returns the number created.

    The next batch is built in a second thread while the database writes the current
    one (the database driver releases the GIL while it waits), so both cores work."""
    build_rng, link_rng = random.Random(seed), random.Random(seed + 1)
    segments = {s.slug: s for s in Segment.objects.filter(slug__in=SEGMENT_WEIGHTS)}
    tag, _ = Tag.objects.get_or_create(slug="synthetic", defaults={"name": "synthetic"})
    start = (
        Participant.objects.filter(is_synthetic=True).order_by("-slug").values_list("slug", flat=True).first()
    )
    first = int(start[len(SLUG_PREFIX) :]) + 1 if start else 1
    batches = [range(b, min(b + batch_size, first + count)) for b in range(first, first + count, batch_size)]
    tier_members = {tier: [] for tier in TIER_ORDER}  # ids by the tier of their main segment
    main_segment = {}  # id -> the id of its main segment (what it supplies, where it buys)
    seen_links = set()
    sources = _sources()
    first_link = (Relationship.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    created = 0
    with ThreadPoolExecutor(max_workers=1) as builder:
        upcoming = builder.submit(_build_batch, build_rng, batches[0], segments) if batches else None
        for index in range(len(batches)):
            rows = upcoming.result()
            if index + 1 < len(batches):
                upcoming = builder.submit(_build_batch, build_rng, batches[index + 1], segments)
            with transaction.atomic():
                ids = _insert_participants([p for p, _ in rows])
                links = []
                for pk, (_, offers) in zip(ids, rows, strict=True):
                    tier = offers[0][0].tier
                    tier_members[tier].append(pk)
                    main_segment[pk] = offers[0][0].pk
                    links.extend(_relationships(link_rng, pk, tier, tier_members, seen_links, main_segment))
                _insert(
                    Offering,
                    [
                        Offering(participant_id=pk, segment=segment, name=name)
                        for pk, (_, offers) in zip(ids, rows, strict=True)
                        for segment, name in offers
                    ],
                )
                _insert(
                    Participant.tags.through,
                    [Participant.tags.through(participant_id=pk, tag_id=tag.pk) for pk in ids],
                )
                _insert(Relationship, links)
            directory_changed()  # COPY sends no signals
            created += len(ids)
            if progress:
                progress(created, count)
    _cite_and_record(first_link, sources)
    analyze(
        [
            Participant,
            Offering,
            Participant.tags.through,
            Relationship,
            Relationship.sources.through,
            Relationship.history.model,
        ]
    )
    return created


SOURCES = 1000  # synthetic sources the synthetic links cite, one each
PUBLISHER = "syn-publisher"  # marks them as synthetic


def _sources():
    """The ids of ``SOURCES`` synthetic sources (created once), lowest first."""
    existing = list(Source.objects.filter(publisher=PUBLISHER).order_by("pk").values_list("pk", flat=True))
    if len(existing) < SOURCES:
        Source.objects.bulk_create(
            Source(
                publisher=PUBLISHER,
                title=f"[synthetic source {i}]",
                published=str(2015 + i % 12),
            )
            for i in range(len(existing), SOURCES)
        )
        existing = list(
            Source.objects.filter(publisher=PUBLISHER).order_by("pk").values_list("pk", flat=True)
        )
    return existing


def _cite_and_record(first_link, sources):
    """Give each synthetic link from ``first_link`` on one synthetic source and a history
    row (what the change feed lists), each with one INSERT … SELECT."""
    links, cites = Relationship._meta.db_table, Relationship.sources.through._meta.db_table
    history = Relationship.history.model._meta.db_table
    tracked = [
        f.column
        for f in Relationship.history.model._meta.concrete_fields
        if not f.column.startswith("history_")
    ]
    columns = ", ".join(tracked)
    now = timezone.now()
    sources_table = Source._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {cites} (relationship_id, source_id) SELECT r.id, s.id FROM {links} r "
            f"JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM {sources_table} "
            f"WHERE publisher = %s) s ON s.n = r.id %% %s WHERE r.id >= %s AND r.evidence = 'synthetic'",
            [PUBLISHER, len(sources), first_link],
        )
        cursor.execute(
            f"INSERT INTO {history} ({columns}, history_date, history_change_reason, history_type) "
            f"SELECT {columns}, %s, 'synthetic', '+' FROM {links} WHERE id >= %s AND evidence = 'synthetic'",
            [now, first_link],
        )


def _relationships(rng, pk, tier, tier_members, seen, main_segment):
    """About two links to already-created participants: 70 % with the tier upstream of
    this one as supplier, 20 % within the tier, 10 % anywhere. One in ten is a tie
    (investment or partnership); 80 % are active, 10 % planned, 10 % ended; each from the
    supplier's main segment into the customer's, with a start between 2015 and 2026."""
    links = []
    position = TIER_ORDER.index(tier)
    for _ in range(rng.choice([1, 2, 2, 3])):
        roll = rng.random()
        if roll < 0.7 and position > 0:
            pool, upstream = tier_members[TIER_ORDER[position - 1]], True
        elif roll < 0.9:
            pool, upstream = tier_members[tier], rng.random() < 0.5
        else:
            pool, upstream = tier_members[rng.choice(TIER_ORDER)], rng.random() < 0.5
        if len(pool) < 2:
            continue
        other = rng.choice(pool)
        if other == pk:
            continue
        supplier, customer = (other, pk) if upstream else (pk, other)
        kind = rng.choice(LINK_KINDS)
        if (supplier, customer, kind) in seen:
            continue
        seen.add((supplier, customer, kind))
        status = rng.choices(["active", "planned", "ended"], weights=[8, 1, 1])[0]
        since = rng.randint(2015, 2026)
        link = Relationship(
            supplier_id=supplier,
            customer_id=customer,
            kind=kind,
            status=status,
            since_year=since,
            since_month=rng.choice([None, rng.randint(1, 12)]),
            until_year=min(since + rng.randint(0, 3), 2026) if status == "ended" else None,
            supplied_segment_id=main_segment[supplier],
            customer_segment_id=main_segment[customer],
            evidence="synthetic",
        )
        link.note_event(None)
        links.append(link)
    return links


LINK_KINDS = ["chips", "compute", "data", "model", "software", "hardware", "service", "energy"] * 2 + [
    "investment",
    "partnership",
]


def _columns(model, skip=("id", "search_vector")):
    return [f for f in model._meta.concrete_fields if f.column not in skip]


def _copy_value(obj, field):
    value = getattr(obj, field.attname)
    return value.name or "" if hasattr(value, "field") and hasattr(value, "name") else value


def _insert(model, objects):
    """Insert plain rows: COPY on PostgreSQL (the ORM's INSERT compilation costs more than
    the database's work at this volume), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=1000)
        return
    fields = _columns(model)
    names = ", ".join(f.column for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row([_copy_value(obj, f) for f in fields])


def _insert_participants(participants):
    """Insert participants and return their ids in order. On PostgreSQL the rows go
    through a COPY into a staging table and one INSERT … SELECT that computes the search
    vector, so each row is written once."""
    if connection.vendor != "postgresql":
        created = Participant.objects.bulk_create(participants, batch_size=1000)
        return [p.pk for p in created]
    table = Participant._meta.db_table
    fields = _columns(Participant)
    names = ", ".join(f.column for f in fields)
    vector = (
        "setweight(to_tsvector('simple', search_names), 'A') || "
        "setweight(to_tsvector('simple', search_terms), 'B') || "
        "setweight(to_tsvector('simple', search_body), 'C')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS synthetic_stage ON COMMIT DELETE ROWS "  # noqa: S608
            f"AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY synthetic_stage ({names}) FROM STDIN") as copy:
            for p in participants:
                copy.write_row([_copy_value(p, f) for f in fields])
        cursor.execute(
            f"INSERT INTO {table} ({names}, search_vector) "  # noqa: S608
            f"SELECT {names}, {vector} FROM synthetic_stage ORDER BY slug RETURNING id, slug"
        )
        ids = {slug: pk for pk, slug in cursor.fetchall()}
        cursor.execute("DELETE FROM synthetic_stage")
    return [ids[p.slug] for p in participants]


def clear_synthetic():
    """Delete every synthetic participant with its offerings, tags and relationships.

    Plain SQL deletes: the ORM's cascade would load hundreds of thousands of rows (the
    history signals prevent its fast path), and synthetic rows have no history.

    On PostgreSQL, outside a transaction, the tables are then rewritten compact (``VACUUM
    FULL``, which locks each for a few seconds): the deleted rows' pages would otherwise
    stay in the table, and the search window of a common word, which reads the table in
    order until it has its matches (directory/search.py), read 33,000 pages instead of 850
    after the 100,000 rows of an earlier benchmark were replaced (46 ms instead of 1.6)."""
    tables = {
        "participant": Participant._meta.db_table,
        "offering": Offering._meta.db_table,
        "relationship": Relationship._meta.db_table,
        "tags": Participant.tags.through._meta.db_table,
        "cites": Relationship.sources.through._meta.db_table,
        "history": Relationship.history.model._meta.db_table,
    }
    synthetic = f"SELECT id FROM {tables['participant']} WHERE is_synthetic"  # noqa: S608
    links = (
        f"SELECT id FROM {tables['relationship']} "
        f"WHERE supplier_id IN ({synthetic}) OR customer_id IN ({synthetic})"
    )
    statements = [  # table names come from the models, not from input
        f"DELETE FROM {tables['cites']} WHERE relationship_id IN ({links})",
        f"DELETE FROM {tables['history']} WHERE history_change_reason = 'synthetic'",
        f"DELETE FROM {tables['relationship']} "
        f"WHERE supplier_id IN ({synthetic}) OR customer_id IN ({synthetic})",
        f"DELETE FROM {tables['offering']} WHERE participant_id IN ({synthetic})",
        f"DELETE FROM {tables['tags']} WHERE participant_id IN ({synthetic})",
        f"UPDATE {tables['participant']} SET parent_id = NULL WHERE parent_id IN ({synthetic})",
        f"DELETE FROM {tables['participant']} WHERE is_synthetic",
        f"DELETE FROM {Source._meta.db_table} WHERE publisher = '{PUBLISHER}'",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        deleted = 0
        for sql in statements:
            cursor.execute(sql)
            if sql.startswith(f"DELETE FROM {tables['participant']}"):
                deleted = cursor.rowcount
        directory_changed()
    if deleted and connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM FULL ANALYZE {', '.join(tables.values())}")
    return deleted
