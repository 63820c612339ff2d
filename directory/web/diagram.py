"""The flow diagram of /chain/flows/: an ordered flow chart drawn as server-side SVG.

The chain's top-level segments stand twice, in chain order: as suppliers on the left and
as customers on the right. Each flow is a band from its supplied segment to its customer
segment, as wide as its share of the largest flow, and links to the list of links behind
it; a flow against the chain's usual direction is dashed. No script: the page's table
holds the same numbers for anyone who cannot see the picture.
"""

from dataclasses import dataclass

from django.urls import reverse

ROW = 34  # px between two segments
TOP = 28  # px above the first row (the column headings)
LEFT, RIGHT = 190, 570  # x of the two columns' inner edges
WIDTH = 760
MAX_BAND = 16  # px, the largest flow's width


@dataclass
class Band:
    supplied: object
    received: object
    links: int
    with_flow: bool
    path: str
    width: float
    url: str


@dataclass
class Diagram:
    height: int
    labels: list  # (y, segment) of each row
    bands: list
    width: int = WIDTH
    left: int = LEFT
    right: int = RIGHT


def _y(i):
    return TOP + i * ROW + ROW // 2


def flow_diagram(table, flow_filter):
    """The ``Diagram`` of a ``chain.FlowTable`` (links for each band carry the filter)."""
    rows = {s.pk: i for i, s in enumerate(table.segments)}
    largest = max((n for _a, _b, n, _w in table.rows), default=0) or 1
    base = reverse("directory:chain_links")
    extra = flow_filter.query()
    bands = []
    # Smaller flows drawn last, on top, so each can be hovered and clicked.
    for supplied, received, n, with_flow in table.rows:
        y1, y2 = _y(rows[supplied.pk]), _y(rows[received.pk])
        middle = (LEFT + RIGHT) / 2
        bands.append(
            Band(
                supplied=supplied,
                received=received,
                links=n,
                with_flow=with_flow,
                path=f"M{LEFT} {y1} C{middle:.0f} {y1} {middle:.0f} {y2} {RIGHT} {y2}",
                width=round(1.5 + (MAX_BAND - 1.5) * n / largest, 1),
                url=f"{base}?supplied={supplied.slug}&customer={received.slug}"
                + (f"&{extra}" if extra else ""),
            )
        )
    return Diagram(
        height=TOP + ROW * len(table.segments) + 8,
        labels=[(_y(i), segment) for i, segment in enumerate(table.segments)],
        bands=bands,
    )
