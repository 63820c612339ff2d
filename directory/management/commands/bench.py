import gc
import json
import logging
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from directory.benchmarks.synthetic import clear_synthetic, generate_synthetic
from directory.catalog.cache import start_new_generation
from directory.models import Participant, RecordKind, Segment

COMMON_WORDS = ["data", "model", "cloud", "gpu", "platform", "generation", "agent", "training"]
RARE_WORDS = ["cambricon", "hbm3e", "kling", "wafer-scale", "milvus", "ragflow", "llama-factory", "oklo"]
CHINESE_WORDS = ["芯片", "数据", "模型", "向量", "智能体", "液冷", "法律", "算力"]
FILTER_COUNTRIES = ["US", "CN"]
FILTER_LICENCES = ["true", "false"]
TRIVIAL = "/robots.txt"
CARD = b'<article class="card">'
FULL_EXPORT_RUNS = 3
# The targets, checked at the largest size measured (``_targets``).
P95_LIMIT_MS = 50
TRIVIAL_RATIO_LIMIT = 10
GROWTH_LIMIT = 1.5
NOT_CHECKED = ("trivial view (baseline)", "page layout only (404 page)")
LINK_KINDS = ["chips", "compute", "model", "software", "data", "service"]
CUSTOMER_GROUPS = ["cn", "us", "europe", "asia", "other"]


def _number(value):
    return "" if value is None else f"{value:.1f}"


def _targets(results):
    """One line per target of the issue (docs/performance.md): met or not, and by what."""
    sizes = sorted({r["size"] for r in results})
    checked = [r for r in results if r["page"] not in NOT_CHECKED and not r["page"].startswith("export")]
    largest = [r for r in checked if r["size"] == sizes[-1]]
    if not largest:
        return []

    def line(met, text):
        return f"  {'met    ' if met else 'NOT MET'}  {text}"

    wrong = sorted(
        {
            f"{r['page']} ({','.join(map(str, r['statuses']))})"
            for r in results
            if r["statuses"] != [404 if r["page"] == "page layout only (404 page)" else 200]
        }
    )
    slowest = max(largest, key=lambda r: r["p95_ms"])
    over = [r for r in largest if r["ratio_to_trivial"] > TRIVIAL_RATIO_LIMIT]
    again = max(largest, key=lambda r: r["again_ratio_to_trivial"])
    lines = [
        f"targets at N={sizes[-1]:,}:",
        line(
            not wrong, "every request answered as expected" + (": not " + ", ".join(wrong) if wrong else "")
        ),
        line(
            slowest["p95_ms"] <= P95_LIMIT_MS,
            f"p95 <= {P95_LIMIT_MS} ms: the highest is {slowest['p95_ms']:.1f} ({slowest['page']})",
        ),
        line(
            not over,
            f"p50 <= {TRIVIAL_RATIO_LIMIT}x the trivial view, first visits: "
            f"{len(largest) - len(over)} of {len(largest)} pages"
            + (
                "; over it: " + ", ".join(f"{r['page']} {r['ratio_to_trivial']}x" for r in over)
                if over
                else ""
            ),
        ),
        line(
            again["again_ratio_to_trivial"] <= TRIVIAL_RATIO_LIMIT,
            f"p50 <= {TRIVIAL_RATIO_LIMIT}x the trivial view, seen again: "
            f"the highest is {again['again_ratio_to_trivial']}x ({again['page']})",
        ),
    ]
    if len(sizes) > 1:
        smallest = {r["page"]: r for r in checked if r["size"] == sizes[0]}
        growth = max(
            (
                (r["p50_ms"] / max(smallest[r["page"]]["p50_ms"], 1e-6), r["page"])
                for r in largest
                if r["page"] in smallest
            ),
            default=(0, ""),
        )
        differ = [
            r["page"]
            for r in checked
            if r["page"] in smallest and max(r["queries"]) != max(smallest[r["page"]]["queries"])
        ]
        lines += [
            line(
                growth[0] <= GROWTH_LIMIT,
                f"p50 at N={sizes[-1]:,} <= {GROWTH_LIMIT}x p50 at N={sizes[0]:,}: "
                f"the highest is {growth[0]:.2f} ({growth[1]})",
            ),
            line(
                not differ,
                "the most queries a request makes is the same at every size"
                + (": not for " + ", ".join(sorted(set(differ))) if differ else ""),
            ),
        ]
    return lines


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = (
        "Measure server time (median, 95th percentile) and query counts of the main pages at "
        "several data sizes, against DATABASE_URL. Adds and finally removes synthetic data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes", default="1000,10000,100000", help="participant counts, comma-separated"
        )
        parser.add_argument("--runs", type=int, default=30, help="requests per page and size (>= 30)")
        parser.add_argument("--keep", action="store_true", help="keep the synthetic data afterwards")
        parser.add_argument("--output", default="", help="JSON file (default bench/results/<time>-<db>.json)")

    def handle(self, sizes, runs, keep, output, **options):
        try:
            sizes = sorted(int(s) for s in sizes.split(","))
        except ValueError as exc:
            raise CommandError("--sizes takes integers such as 1000,10000") from exc
        if runs < 1:
            raise CommandError("--runs must be positive")
        logging.getLogger("django.request").setLevel(logging.ERROR)  # no line per 404 in the table
        clear_synthetic()
        real = Participant.objects.count()
        results = []
        # How this configuration serves a page seen before (the "again" columns).
        served_seconds = settings.PAGE_CACHE_SECONDS
        # No page cache (every run must do the work), but the counts cache stays on: it is
        # the "materialised counters" of the listing, invalidated by writes, not by URL.
        # One client asks for the API hundreds of times a minute: no rate limit here.
        with override_settings(
            DEBUG=False, ALLOWED_HOSTS=["testserver"], PAGE_CACHE_SECONDS=0, API_THROTTLE_RATE=None
        ):
            for size in sizes:
                missing = size - Participant.objects.count()
                if missing > 0:
                    self.stdout.write(f"generating {missing} synthetic participants for N={size} …")
                    generate_synthetic(missing, seed=size)
                self._analyze()
                # Measure a process in the state of a server's, not one holding the
                # generator's leftovers: their collection would fall into the timings.
                gc.collect()
                self.stdout.write(f"measuring N={Participant.objects.count()} ({runs} runs per page) …")
                results.extend(self._measure(size, runs, served_seconds))
        if not keep:
            clear_synthetic()
        report = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": connection.vendor,
            "real_participants": real,
            "runs": runs,
            "results": results,
            "targets": _targets(results),
        }
        self._print(results)
        for line in report["targets"]:
            self.stdout.write(line)
        path = output or (
            settings.BASE_DIR
            / "bench"
            / "results"
            / f"{report['when'][:19].replace(':', '')}-{connection.vendor}.json"
        )
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)
        self.stdout.write(f"written to {path}")

    def _analyze(self):
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    def _pages(self, runs):
        """Each page as a list of ``runs`` distinct URLs, so no run repeats a cached one."""
        segments = list(Segment.objects.values_list("slug", flat=True))
        top = list(Segment.objects.filter(parent=None).values_list("slug", flat=True))
        slugs = list(
            Participant.objects.published().order_by("?").values_list("slug", flat=True)[: max(runs, 1)]
        )
        smallest = min(
            segments, key=lambda s: Participant.objects.published().filter(offerings__segment__slug=s).count()
        )
        kinds = list(RecordKind.objects.values_list("slug", flat=True))

        def rotate(items, i):
            return items[i % len(items)]

        return {
            "trivial view (baseline)": [TRIVIAL] * runs,
            # For reading the others: the site's layout around a few lines, no query.
            "page layout only (404 page)": [f"/no-such-page-{i}/" for i in range(runs)],
            "/ (chain map)": ["/"] * runs,
            "segment page": [f"/segments/{rotate(segments, i)}/" for i in range(runs)],
            "listing, unfiltered": [f"/participants/?page={1 + i % 10}" for i in range(runs)],
            # Combinations that fill a page at every size (the two largest countries, open
            # source or not; 40 in all): with smaller countries a page at 1,000 showed 5
            # cards where 100,000 showed 20, and compared a lighter page with a full one.
            "listing, filtered": [
                f"/participants/?segment={rotate(segments, i)}"
                f"&country={FILTER_COUNTRIES[i // len(segments) % 2]}"
                f"&open_source={FILTER_LICENCES[i // (2 * len(segments)) % 2]}"
                for i in range(runs)
            ],
            "search, common word": [
                f"/participants/?q={rotate(COMMON_WORDS, i)}&page={1 + i // 8}" for i in range(runs)
            ],
            "search, rare word": [
                f"/participants/?q={rotate(RARE_WORDS, i)}&page={1 + i // 8}" for i in range(runs)
            ],
            "search, Chinese word": [
                f"/participants/?q={rotate(CHINESE_WORDS, i)}&page={1 + i // 8}" for i in range(runs)
            ],
            "listing, -updated, page 50": [
                # Pages 46-50: at 1,000 participants page 50 is the last one.
                f"/participants/?ordering=-updated&page={50 - i % 5}"
                for i in range(runs)
            ],
            "listing in Chinese, A–Z (pinyin)": [
                f"/zh-hans/participants/?country={FILTER_COUNTRIES[i % 2]}&page={1 + i // 2}"
                for i in range(runs)
            ],
            "participant page": [f"/participants/{rotate(slugs, i)}/" for i in range(runs)],
            "chain flows": [
                f"/chain/flows/?kind={rotate(LINK_KINDS, i)}&customer_group={rotate(CUSTOMER_GROUPS, i // 6)}"
                for i in range(runs)
            ],
            "chain links between two segments": [
                f"/chain/links/?supplied={rotate(segments, i)}&customer={rotate(segments, i // 3 + 1)}"
                for i in range(runs)
            ],
            "changes": [f"/changes/?page={1 + i}" for i in range(runs)],
            **(
                {
                    "records of a kind": [
                        f"/records/{rotate(kinds, i)}/?country={FILTER_COUNTRIES[i // len(kinds) % 2]}"
                        for i in range(runs)
                    ]
                }
                if kinds  # the kinds come with the real data (load_seed)
                else {}
            ),
            # The ten segments of the chain (each holds thousands at 100,000; a sub-segment
            # may hold fewer than three pages of 20).
            "API participants by segment": [
                f"/api/participants/?segment={rotate(top, i)}&page={1 + i // 10}" for i in range(runs)
            ],
            "API relationships": [
                f"/api/relationships/?supplied_segment={rotate(segments, i)}&page={1 + i // len(segments)}"
                for i in range(runs)
            ],
            "API flows": [
                f"/api/flows/?kind={rotate(LINK_KINDS, i)}&customer_group={rotate(CUSTOMER_GROUPS, i // 6)}"
                for i in range(runs)
            ],
            "API participant graph": [f"/api/participants/{rotate(slugs, i)}/graph/" for i in range(runs)],
            f"export.csv (segment {smallest})": [f"/participants/export.csv?segment={smallest}"] * runs,
            # Every published participant: shows whether memory stays flat as N grows (a few
            # runs, each streams the whole directory).
            "export.csv (everything)": ["/participants/export.csv"] * min(runs, FULL_EXPORT_RUNS),
        }

    def _measure(self, size, runs, served_seconds):
        client = Client()
        rows = []
        pages = self._pages(runs)
        for name, urls in pages.items():
            client.get(urls[0])  # warm up code paths, connections and the counts of this page
            times, queries, statuses, peak, first_rows, sizes = [], set(), set(), 0, [], set()
            cards = []
            for url in urls:
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    if getattr(response, "streaming", False):
                        length = 0
                        for number, chunk in enumerate(response.streaming_content):
                            if number == 1:  # the first chunk of rows, after the header
                                first_rows.append((time.perf_counter() - started) * 1000)
                            length += len(chunk)
                        sizes.add(length)
                    times.append((time.perf_counter() - started) * 1000)
                queries.add(len(captured))
                statuses.add(response.status_code)
                if not getattr(response, "streaming", False):
                    cards.append(response.content.count(CARD))
            if "export" in name:
                # Memory on a run of its own: tracemalloc slows Python several times over
                # and the query log holds every query's SQL, so neither is in the timings.
                tracemalloc.start()
                for _ in client.get(urls[0]).streaming_content:
                    pass
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            again = self._again(client, urls, served_seconds) if "export" not in name else {}
            rows.append(
                {
                    "size": size,
                    "page": name,
                    "p50_ms": round(statistics.median(times), 2),
                    "p95_ms": round(_percentile(times, 0.95), 2),
                    "queries": sorted(queries),
                    "statuses": sorted(statuses),
                    "peak_memory_kb": round(peak / 1024) if peak else None,
                    "first_rows_p50_ms": round(statistics.median(first_rows), 2) if first_rows else None,
                    "bytes": max(sizes) if sizes else None,
                    "runs": len(times),
                    # Participant cards on the page (median): a page of few results costs
                    # less than a full one, whatever the size of the directory.
                    "cards_p50": statistics.median(cards) if any(cards) else None,
                    **again,
                }
            )
        self._after_change(client, pages, rows)
        baseline = rows[0]["p50_ms"] or 1e-6
        for row in rows:
            row["ratio_to_trivial"] = round(row["p50_ms"] / baseline, 1)
            if "again_p50_ms" in row:
                row["again_ratio_to_trivial"] = round(row["again_p50_ms"] / baseline, 1)
        return rows

    def _after_change(self, client, pages, rows):
        """Each page's first request after a change to the directory (one run each, after
        the others, which it would otherwise make colder): what a process rebuilds then
        (the bitmap index, the link arrays, the counts), as the first visitor after a
        curator publishes waits for it."""
        for row, urls in zip(rows, pages.values(), strict=True):
            if not row["page"].startswith("export"):
                start_new_generation()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    client.get(urls[0])
                    row["after_change_ms"] = round((time.perf_counter() - started) * 1000, 1)
                row["after_change_queries"] = len(captured)

    def _again(self, client, urls, served_seconds):
        """The same URLs requested again as this configuration serves them (the page cache
        on, for PAGE_CACHE_SECONDS as set): once to store each page, then timed. What a
        visitor who is not the first to ask for a page waits."""
        times, hits = [], 0
        with override_settings(PAGE_CACHE_SECONDS=served_seconds):
            for url in urls:
                client.get(url)
            for url in urls:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                hits += response.get("X-Page-Cache") == "hit"
        return {"again_p50_ms": round(statistics.median(times), 2), "again_page_cache_hits": hits}

    def _print(self, results):
        header = (
            f"{'N':>7}  {'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'x triv':>7} {'max q':>6} {'cards':>6}"
            f" {'again':>6} {'x triv':>7} {'change':>7}  status  memory"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in results:
            memory = (
                f"{r['peak_memory_kb']} kB peak, first rows after {r['first_rows_p50_ms']:.1f} ms, "
                f"{r['bytes'] / 1e6:.1f} MB"
                if r["peak_memory_kb"]
                else ""
            )
            self.stdout.write(
                f"{r['size']:>7}  {r['page']:<34} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
                f"{r['ratio_to_trivial']:>7.1f} {max(r['queries']):>6} {r['cards_p50'] or '':>6} "
                f"{_number(r.get('again_p50_ms')):>6} {_number(r.get('again_ratio_to_trivial')):>7} "
                f"{_number(r.get('after_change_ms')):>7}  "
                f"{','.join(map(str, r['statuses'])):<6}  {memory}"
            )
