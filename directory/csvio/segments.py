"""The segments CSV: the sub-segments of the ten canonical segments (and any segment a
curator adds), by slug: ``slug,parent,order,name_en,name_zh,description_en,description_zh``.
A sub-segment takes its parent's tier. All rows or none; a second import changes nothing."""

from django.db import transaction

from directory.csvio.common import ImportReport, RowResult, check_text, read_csv
from directory.models import Segment

COLUMNS = ["slug", "parent", "order", "name_en", "name_zh", "description_en", "description_zh"]
_TEXT = ["name_en", "name_zh", "description_en", "description_zh"]


def import_segments(data, dry_run=False):
    rows = list(read_csv(data, ["slug", "parent", "name_en"]))
    existing = {s.slug: s for s in Segment.objects.all()}
    report, plan = ImportReport(), []
    for line, row in rows:
        result = RowResult(line=line, key=(row or {}).get("slug", ""))
        report.rows.append(result)
        if row is None:
            result.errors.append("more cells than header columns")
            continue
        check_text(row, result.errors)
        parent = existing.get(row["parent"]) if row["parent"] else None
        if row["parent"] and parent is None:
            result.errors.append(f"parent: no segment {row['parent'][:40]}")
        if row["parent"] and parent is not None and parent.parent_id:
            result.errors.append("parent: a sub-segment cannot have sub-segments")
        order = row.get("order") or "0"
        if not order.isdigit():
            result.errors.append("order: a whole number")
        if result.errors:
            result.action = "error"
            continue
        wanted = {name: row.get(name, "") for name in _TEXT}
        wanted.update(order=int(order), parent=parent, tier=parent.tier if parent else None)
        segment = existing.get(row["slug"])
        if segment is None:
            if parent is None:
                result.errors.append("parent: a new segment needs a parent (the ten top-level ones exist)")
                result.action = "error"
                continue
            result.action = "create"
        else:
            wanted["tier"] = wanted["tier"] or segment.tier
            result.changes = [k for k, v in wanted.items() if getattr(segment, k) != v]
            result.action = "update" if result.changes else "unchanged"
        plan.append((result, row["slug"], wanted))
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for result, slug, wanted in plan:
            if result.action == "create":
                Segment.objects.create(slug=slug, **wanted)
            elif result.action == "update":
                segment = existing[slug]
                for name, value in wanted.items():
                    setattr(segment, name, value)
                segment.save()
    report.written = True
    return report
