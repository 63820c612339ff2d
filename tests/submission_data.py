"""POST bodies for the public submission forms, as a browser would send them."""

from directory.models import PROPOSAL_FIELDS, Participant

SUBMITTER = {
    "submitter_name": "Li Wei",
    "submitter_email": "li.wei@example.org",
    "submitter_relation": "employee",
    "note": "Source: our press page.",
    "phone": "",
}


def new_listing(offerings=None, suppliers=(), customers=(), **fields):
    """A valid /submit/ POST for a new organisation; keyword arguments override fields."""
    data = {
        "name_en": "Moonshot AI",
        "name_zh": "月之暗面",
        "website": "https://www.moonshot.cn/",
        "country": "CN",
        "founded": "2023",
        "open_source": "partly",
        "description_en": "Builds the Kimi models.",
        "description_zh": "开发 Kimi 大模型。",
        "kind": "vendor",
        **SUBMITTER,
    }
    offerings = (
        [{"segment": "foundation-models", "name": "Kimi", "description": "Long context.", "url": ""}]
        if offerings is None
        else offerings
    )
    rows = [*offerings, *[{}] * max(0, 3 - len(offerings))]
    data.update(
        {
            "offerings-TOTAL_FORMS": str(len(rows)),
            "offerings-INITIAL_FORMS": "0",
            "offerings-MIN_NUM_FORMS": "1",
            "offerings-MAX_NUM_FORMS": "10",
        }
    )
    for i, row in enumerate(rows):
        for name in ("segment", "name", "description", "url"):
            data[f"offerings-{i}-{name}"] = row.get(name, "")
    for prefix, links in (("suppliers", suppliers), ("customers", customers)):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(links))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for i, (slug, kind) in enumerate(links):
            data[f"{prefix}-{i}-participant"] = slug
            data[f"{prefix}-{i}-kind"] = kind
    data.update(fields)
    return data


def correction(participant: Participant, **changes):
    """A /participants/<slug>/suggest/ POST that resends the current values with ``changes``."""
    data = {}
    for name in PROPOSAL_FIELDS:
        value = getattr(participant, name)
        data[name] = "" if value is None else str(value)
    data.update(SUBMITTER)
    data.update(changes)
    return data
