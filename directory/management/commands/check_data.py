"""``python manage.py check_data``: the real data in the database (after ``load_seed``)
against the data rules, with a coverage table per segment. Exit status 1 when a rule fails."""

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError

from directory.catalog.flows import FLOW
from directory.models import SUPPLY_KINDS, Offering, Participant, Relationship, Segment, in_chain_order

# The data issue's minimums.
MIN_PARTICIPANTS = 600
MIN_PER_SEGMENT = 40
MIN_SHARE = 1 / 3  # Chinese, and from elsewhere, in every segment
MIN_SUPPLY_LINKS = 450
MAX_WITHOUT_LINK = 0.25
MIN_CHINESE_LINKED = 0.60
MIN_FLOW_LINKS = 15  # per segment, in each direction the chain's flow gives it


def _directions(slug):
    """The directions a segment's links must reach: energy only supplies, the two end
    segments mostly buy, the others both."""
    if slug == "energy-power":
        return ("out",)
    if not FLOW.get(slug):
        return ("in",)
    return ("in", "out")


class Command(BaseCommand):
    help = (
        "Check the real data in the database against the data rules (sites, segments of "
        "links, sources, slugs, coverage minimums) and print the coverage per segment."
    )

    def handle(self, **options):
        problems = []
        people = {
            p.pk: p
            for p in Participant.objects.real().only(
                "slug", "country", "website", "website_domain", "parent_id"
            )
        }
        segments = {s.pk: s for s in Segment.objects.all()}
        top = {pk: (s if s.parent_id is None else segments[s.parent_id]) for pk, s in segments.items()}
        own = defaultdict(set)
        for participant_id, segment_id in Offering.objects.values_list("participant_id", "segment_id"):
            if participant_id in people:
                own[participant_id].add(segment_id)
        problems += self._sites(people)
        problems += [f"{p.slug}: no offering" for pk, p in people.items() if not own[pk]]
        problems += [
            f"{p.slug}: parent is not in the directory"
            for p in people.values()
            if p.parent_id and p.parent_id not in people
        ]
        links = list(
            Relationship.objects.filter(supplier_id__in=people, customer_id__in=people).prefetch_related(
                "sources"
            )
        )
        linked = set()
        flows = defaultdict(lambda: {"in": 0, "out": 0})
        for link in links:
            linked |= {link.supplier_id, link.customer_id}
            name = f"{people[link.supplier_id].slug} -> {people[link.customer_id].slug} ({link.kind})"
            problems += self._link(link, name, own, segments)
            if link.kind in SUPPLY_KINDS and link.supplied_segment_id and link.customer_segment_id:
                flows[top[link.customer_segment_id].slug]["in"] += 1
                flows[top[link.supplied_segment_id].slug]["out"] += 1
        problems += self._minimums(people, own, top, links, linked, flows)
        self._table(people, own, top, linked, flows)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the data")
        self.stdout.write("check_data: every rule holds")

    def _sites(self, people):
        """No two organisations share a website's site (a shared host is told apart by
        its path, as ``urls_util.site_of`` does)."""
        by_site = defaultdict(list)
        for p in people.values():
            if p.website_domain:
                by_site[p.website_domain].append(p.slug)
        found = [
            f"{', '.join(slugs)}: share the website {site}"
            for site, slugs in by_site.items()
            if len(slugs) > 1
        ]
        return found

    def _link(self, link, name, own, segments):
        found = []
        for field, side in (("supplied_segment_id", "supplier_id"), ("customer_segment_id", "customer_id")):
            segment_id = getattr(link, field)
            allowed = own[getattr(link, side)] | {segments[s].parent_id for s in own[getattr(link, side)]}
            if segment_id is None:
                found.append(f"{name}: no {field[:-3].replace('_', ' ')}")
            elif segment_id not in allowed:
                found.append(f"{name}: {segments[segment_id].slug} is not one of the {side[:-3]}'s segments")
        if not link.sources.all():
            found.append(f"{name}: no source")
        elif any(not (s.publisher and s.title and s.published) for s in link.sources.all()):
            found.append(f"{name}: a source without publisher, title or date")
        if link.status == "ended" and not link.until_year:
            found.append(f"{name}: ended without an end year")
        if not link.since_year:
            found.append(f"{name}: no start year")
        return found

    def _minimums(self, people, own, top, links, linked, flows):
        found = []
        if len(people) < MIN_PARTICIPANTS:
            found.append(f"{len(people)} organisations, fewer than {MIN_PARTICIPANTS}")
        supply = sum(1 for link in links if link.kind in SUPPLY_KINDS)
        if supply < MIN_SUPPLY_LINKS:
            found.append(f"{supply} supply links, fewer than {MIN_SUPPLY_LINKS}")
        without = sum(1 for pk in people if pk not in linked) / max(len(people), 1)
        if without > MAX_WITHOUT_LINK:
            found.append(f"{without:.0%} of organisations have no link (at most {MAX_WITHOUT_LINK:.0%})")
        chinese = [pk for pk, p in people.items() if p.country == "CN"]
        share = sum(1 for pk in chinese if pk in linked) / max(len(chinese), 1)
        if share < MIN_CHINESE_LINKED:
            found.append(
                f"{share:.0%} of Chinese organisations have a link (at least {MIN_CHINESE_LINKED:.0%})"
            )
        for segment in set(top.values()):
            members = [pk for pk in people if any(top[s] == segment for s in own[pk])]
            cn = sum(1 for pk in members if people[pk].country == "CN")
            if len(members) < MIN_PER_SEGMENT:
                found.append(f"{segment.slug}: {len(members)} organisations, fewer than {MIN_PER_SEGMENT}")
            if members and (cn / len(members) < MIN_SHARE or (len(members) - cn) / len(members) < MIN_SHARE):
                found.append(f"{segment.slug}: {cn} of {len(members)} Chinese, not a third each way")
            for direction in _directions(segment.slug):
                if flows[segment.slug][direction] < MIN_FLOW_LINKS:
                    found.append(
                        f"{segment.slug}: {flows[segment.slug][direction]} supply links {direction}, "
                        f"fewer than {MIN_FLOW_LINKS}"
                    )
        return found

    def _table(self, people, own, top, linked, flows):
        tops = in_chain_order(set(top.values()))
        header = (
            f"{'segment':20} {'orgs':>5} {'CN':>5} {'elsewhere':>9} {'links in':>9} {'links out':>10} "
            f"{'no link':>8}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for segment in tops:
            members = [pk for pk in people if any(top[s] == segment for s in own[pk])]
            cn = sum(1 for pk in members if people[pk].country == "CN")
            self.stdout.write(
                f"{segment.slug:20} {len(members):>5} {cn:>5} {len(members) - cn:>9} "
                f"{flows[segment.slug]['in']:>9} {flows[segment.slug]['out']:>10} "
                f"{sum(1 for pk in members if pk not in linked):>8}"
            )
        chinese = [pk for pk, p in people.items() if p.country == "CN"]
        self.stdout.write(
            f"{'all':20} {len(people):>5} {len(chinese):>5} {len(people) - len(chinese):>9}   "
            f"organisations without a link: {sum(1 for pk in people if pk not in linked)} "
            f"({sum(1 for pk in people if pk not in linked) / max(len(people), 1):.0%}); Chinese with one: "
            f"{sum(1 for pk in chinese if pk in linked) / max(len(chinese), 1):.0%}"
        )
