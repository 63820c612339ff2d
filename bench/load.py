"""A bounded load run against a chainsite server on this machine.

    python bench/load.py --base-url http://127.0.0.1:8000 --clients 16 --duration 60

N clients (threads, standard library only) send mixed traffic for T seconds: 40 % browsing
(the chain map, segment pages, filtered listing pages), 20 % search (English and Chinese
words), 20 % participant pages, 15 % API list and detail, 5 % submissions through the
real form (GET for the CSRF token and cookie, then POST). At the end it prints requests/s,
latency percentiles and errors (any 5xx or connection failure), then checks that every
accepted submission (a 302 to /submissions/<token>/) exists exactly once: through its
status page, and in the database when --verify-db is given (it reads DATABASE_URL, so
point it at the server's database).

With --publish-every S a curator also saves a participant every S seconds, as the admin
does (a history row, and on commit a new cache generation that invalidates every cached
page, count and index on the server), so the run shows what visitors wait while curators
publish. It writes to DATABASE_URL and must share the server's cache (REDIS_URL) for the
server to see the changes.

The server must let one address submit many times: start it with
SUBMISSION_RATE_LIMIT=100000 API_THROTTLE_RATE=off (see `make load` and docs/security.md).
Only loopback addresses are accepted as targets: this is a test tool, not a weapon.
Exit status 1 when there were errors or a submission could not be verified.
"""

import argparse
import collections
import http.cookiejar
import ipaddress
import json
import os
import random
import re
import socket
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

WORDS = ["nvidia", "gpu", "model", "cloud", "data", "agent", "open", "chip", "rag", "inference"]
WORDS_ZH = ["芯片", "大模型", "云", "数据", "智能", "训练", "英伟达", "华为"]
COUNTRIES = ["US", "CN", "DE", "FR", "GB", "JP"]
ORDERINGS = ["name", "-name", "founded", "-founded", "-updated"]
KINDS = ["vendor", "service", "both", "open_source", "research"]
MIX = [("browse", 40), ("search", 20), ("detail", 20), ("api", 15), ("submit", 5)]
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_PATH = re.compile(r"^/submissions/([A-Za-z0-9_-]+)/$")


def loopback_only(base_url):
    """Refuse anything but http(s) on a host that resolves only to loopback addresses."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"--base-url must be http(s)://host:port, not {base_url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise SystemExit(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"refusing {parts.hostname} ({', '.join(sorted(addresses))}): loopback only")
    return base_url.rstrip("/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keep redirects as responses: a submission's 302 carries its token."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """One simulated visitor with its own cookie jar (for the CSRF cookie)."""

    def __init__(self, base, stats, submissions, stop_at, rng):
        self.base = base
        self.stats = stats
        self.submissions = submissions
        self.stop_at = stop_at
        self.rng = rng
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, category, path, data=None):
        """(status, body text, headers); status 0 for a connection failure."""
        url = self.base + path
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        # http(s) on loopback only: checked by loopback_only() before any request.
        request = urllib.request.Request(url, data=body, headers={"Accept-Language": "en"})  # noqa: S310
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, text, headers = error.code, error.read(), error.headers
        except (OSError, urllib.error.URLError) as exc:
            status, text, headers = 0, str(exc).encode(), {}
        self.stats.record(category, status, time.perf_counter() - start, path)
        return status, text.decode("utf-8", "replace"), headers

    def run(self, slugs, segments):
        categories = [name for name, _ in MIX]
        weights = [weight for _, weight in MIX]
        while time.monotonic() < self.stop_at:
            category = self.rng.choices(categories, weights)[0]
            getattr(self, category)(slugs, segments)

    def browse(self, slugs, segments):
        choice = self.rng.random()
        if choice < 0.25:
            self.request("browse", "/")
        elif choice < 0.55:
            self.request("browse", f"/segments/{self.rng.choice(segments)}/")
        else:
            params = {"ordering": self.rng.choice(ORDERINGS), "page_size": self.rng.choice([20, 50, 100])}
            if self.rng.random() < 0.5:
                params["segment"] = self.rng.sample(segments, k=self.rng.randint(1, 2))
            if self.rng.random() < 0.4:
                params["country"] = self.rng.choice(COUNTRIES)
            if self.rng.random() < 0.3:
                params["kind"] = self.rng.choice(KINDS)
            if self.rng.random() < 0.3:
                params["open_source"] = self.rng.choice(["true", "false", "yes", "partly", "no"])
            self.request("browse", "/participants/?" + urllib.parse.urlencode(params, doseq=True))

    def search(self, slugs, segments):
        word = self.rng.choice(WORDS + WORDS_ZH)
        self.request("search", "/participants/?" + urllib.parse.urlencode({"q": word}))

    def detail(self, slugs, segments):
        self.request("detail", f"/participants/{urllib.parse.quote(self.rng.choice(slugs))}/")

    def api(self, slugs, segments):
        choice = self.rng.random()
        if choice < 0.4:
            params = {"segment": self.rng.choice(segments), "page_size": 50}
            self.request("api", "/api/participants/?" + urllib.parse.urlencode(params))
        elif choice < 0.55:
            word = self.rng.choice(WORDS + WORDS_ZH)
            self.request("api", "/api/participants/?" + urllib.parse.urlencode({"q": word}))
        elif choice < 0.9:
            self.request("api", f"/api/participants/{urllib.parse.quote(self.rng.choice(slugs))}/")
        else:
            self.request("api", "/api/segments/")

    def submit(self, slugs, segments):
        status, page, _headers = self.request("submit", "/submit/")
        match = CSRF_INPUT.search(page) if status == 200 else None
        if not match:
            return
        name = f"Load Test {uuid.uuid4().hex[:12]}"
        data = {
            "csrfmiddlewaretoken": match.group(1),
            "name_en": name,
            "name_zh": "压力测试",
            "website": f"https://{name.split()[-1]}.load.example/",
            "country": self.rng.choice(COUNTRIES),
            "founded": str(self.rng.randint(1990, 2024)),
            "open_source": "no",
            "description_en": "Sent by bench/load.py.",
            "description_zh": "",
            "kind": "vendor",
            "confirm_different": "on",
            "submitter_name": "Load",
            "submitter_email": "load@example.org",
            "submitter_relation": "other",
            "note": "",
            "phone": "",
            "offerings-TOTAL_FORMS": "1",
            "offerings-INITIAL_FORMS": "0",
            "offerings-MIN_NUM_FORMS": "1",
            "offerings-MAX_NUM_FORMS": "10",
            "offerings-0-segment": self.rng.choice(segments),
            "offerings-0-name": "Load offering",
            "offerings-0-description": "",
            "offerings-0-url": "",
            "suppliers-TOTAL_FORMS": "1",
            "suppliers-INITIAL_FORMS": "0",
            "suppliers-0-participant": self.rng.choice(slugs),
            "suppliers-0-kind": "software",
            "customers-TOTAL_FORMS": "0",
            "customers-INITIAL_FORMS": "0",
        }
        status, _body, headers = self.request("submit", "/submit/", data)
        location = urllib.parse.urlsplit(headers.get("Location", "")).path if status == 302 else ""
        match = TOKEN_PATH.match(location)
        if match:
            self.submissions.append((match.group(1), name))
        else:
            self.stats.note(f"submission not accepted: HTTP {status} {location}")


class Stats:
    """Thread-safe latency and status counts, per category."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = collections.defaultdict(list)
        self.statuses = collections.Counter()
        self.errors = []
        self.notes = collections.Counter()

    def record(self, category, status, seconds, path):
        with self.lock:
            self.latencies[category].append(seconds)
            self.statuses[status] += 1
            if status == 0 or status >= 500:
                self.errors.append((status, path))

    def note(self, text):
        with self.lock:
            self.notes[text] += 1


def percentile(values, p):
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def discover(base):
    """Participant slugs (first pages of the API) and segment slugs of the server."""
    client = Client(base, Stats(), [], 0, random.Random())  # noqa: S311
    slugs, path = [], "/api/participants/?page_size=100"
    while path and len(slugs) < 1000:
        status, body, _ = client.request("setup", path)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: is the server up, with API_THROTTLE_RATE=off?")
        page = json.loads(body)
        slugs += [p["slug"] for p in page["results"]]
        path = (
            urllib.parse.urlsplit(page["next"])._replace(scheme="", netloc="").geturl()
            if page["next"]
            else ""
        )
    status, body, _ = client.request("setup", "/api/segments/")
    data = json.loads(body)
    segments = [s["slug"] for s in (data["results"] if isinstance(data, dict) else data)]
    if not slugs or not segments:
        raise SystemExit("the server has no participants or segments: load the seed data first")
    return slugs, segments


def verify_pages(base, submissions):
    """Each accepted submission's status page exists and shows what was sent."""
    client = Client(base, Stats(), [], 0, random.Random())  # noqa: S311
    missing = []
    for token, name in submissions:
        status, body, _ = client.request("verify", f"/submissions/{token}/")
        if status != 200 or name not in body:
            missing.append((token, name, status))
    return missing


def _django():
    """Django, set up against DATABASE_URL (and REDIS_URL) like the server."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chainsite.settings")
    import django

    django.setup()


class Curator:
    """Saves a published participant every ``every`` seconds until ``stop_at``, through
    the ORM as the admin does: synthetic ones when there are (the real data keeps its
    dates), unchanged but for ``updated_at``."""

    def __init__(self, every, stop_at, rng):
        self.every, self.stop_at, self.rng = every, stop_at, rng
        self.saves = 0

    def run(self):
        from django.db import connection

        from directory.models import Participant

        try:
            published = Participant.objects.published()
            ids = list(published.filter(is_synthetic=True).values_list("pk", flat=True)[:10_000])
            ids = ids or list(published.values_list("pk", flat=True)[:10_000])
            while ids and time.monotonic() + self.every < self.stop_at:
                time.sleep(self.every)
                participant = Participant.objects.get(pk=self.rng.choice(ids))
                participant._change_reason = "load run (bench/load.py): saved unchanged"
                participant.save()
                self.saves += 1
        finally:
            connection.close()


def verify_database(submissions):
    """Through the ORM, against DATABASE_URL: each accepted submission is stored exactly
    once (counted by its unique name, so a double insert would show)."""
    _django()
    from directory.models import Submission

    names = [name for _, name in submissions]
    stored = collections.Counter()
    for i in range(0, len(names), 500):
        stored.update(
            Submission.objects.filter(data__name_en__in=names[i : i + 500]).values_list(
                "data__name_en", flat=True
            )
        )
    tokens = set(
        Submission.objects.filter(token__in=[t for t, _ in submissions]).values_list("token", flat=True)
    )
    return [
        (token, name, stored[name]) for token, name in submissions if stored[name] != 1 or token not in tokens
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("LOAD_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60, help="seconds")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable mix")
    parser.add_argument("--verify-db", action="store_true", help="also count submissions in DATABASE_URL")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--publish-every",
        type=float,
        default=0,
        metavar="S",
        help="a curator saves a participant every S seconds (DATABASE_URL; share the server's REDIS_URL)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 0 < args.duration <= 3600:
        parser.error("--clients must be 1..256 and --duration 0..3600 seconds")
    if args.publish_every < 0:
        parser.error("--publish-every takes a number of seconds (0: no curator)")
    base = loopback_only(args.base_url)
    slugs, segments = discover(base)

    stats, submissions = Stats(), []
    seed = args.seed if args.seed is not None else random.randrange(2**32)  # noqa: S311
    started = time.monotonic()
    stop_at = started + args.duration
    threads = [
        threading.Thread(
            target=Client(base, stats, submissions, stop_at, random.Random(seed + i)).run,  # noqa: S311
            args=(slugs, segments),
        )
        for i in range(args.clients)
    ]
    curator = None
    if args.publish_every:
        _django()
        curator = Curator(args.publish_every, stop_at, random.Random(seed - 1))  # noqa: S311
        threads.append(threading.Thread(target=curator.run))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    every = [s for values in stats.latencies.values() for s in values]
    total = len(every)
    report = {
        "base_url": base,
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "seed": seed,
        "participants": len(slugs),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "latency_ms": {f"p{p}": round(percentile(every, p) * 1000, 1) for p in (50, 95, 99)},
        "by_category": {
            category: {
                "requests": len(values),
                **{f"p{p}_ms": round(percentile(values, p) * 1000, 1) for p in (50, 95, 99)},
            }
            for category, values in sorted(stats.latencies.items())
        },
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "errors": len(stats.errors),
        "error_samples": stats.errors[:10],
        "notes": dict(stats.notes),
        "submissions_accepted": len(submissions),
        "publish_every_s": args.publish_every or None,
        "publishes": curator.saves if curator else 0,
    }
    missing = verify_pages(base, submissions)
    report["submissions_missing_status_page"] = len(missing)
    if args.verify_db:
        wrong = verify_database(submissions)
        report["submissions_not_stored_exactly_once"] = len(wrong)
        missing += wrong
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if report["errors"] or missing else 0


def print_report(report):
    latency = report["latency_ms"]
    print(
        f"{report['requests']} requests in {report['seconds']} s from {report['clients']} clients "
        f"against {report['base_url']} ({report['participants']} participant slugs sampled)"
    )
    print(
        f"{report['requests_per_second']} requests/s; latency p50 {latency['p50']} ms, "
        f"p95 {latency['p95']} ms, p99 {latency['p99']} ms"
    )
    print(f"{'category':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for category, row in report["by_category"].items():
        print(f"{category:<10} {row['requests']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8}")
    print(f"statuses: {report['statuses']}")
    print(f"errors (5xx or connection): {report['errors']} {report['error_samples'] or ''}")
    for text, count in report["notes"].items():
        print(f"  {count} x {text}")
    if report["publish_every_s"]:
        print(
            f"a curator saved a participant {report['publishes']} times, every {report['publish_every_s']} s"
        )
    checked = "status pages" + (" and database" if "submissions_not_stored_exactly_once" in report else "")
    bad = report["submissions_missing_status_page"] + report.get("submissions_not_stored_exactly_once", 0)
    print(
        f"submissions accepted: {report['submissions_accepted']}; not found exactly once ({checked}): {bad}"
    )


if __name__ == "__main__":
    sys.exit(main())
