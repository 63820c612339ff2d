"""``{% kept "name" part ... %}…{% endkept %}``: a fragment of a page rendered once and
kept until the directory changes (per name, language and the parts given), for the
costly parts of pages that many URLs share (the chain map, a listing's filter column)."""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from directory.catalog.cache import remember

register = template.Library()


class KeptNode(template.Node):
    def __init__(self, nodelist, name, parts):
        self.nodelist, self.name, self.parts = nodelist, name, parts

    def render(self, context):
        parts = (get_language(), *(str(part.resolve(context)) for part in self.parts))
        name = f"fragment:{self.name.resolve(context)}"
        html = remember(name, parts, lambda: self.nodelist.render(context))
        return mark_safe(html)  # noqa: S308  (the template's own output, escaped when it was rendered)


@register.tag
def kept(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% kept %} needs a fragment name")
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(b) for b in bits[2:]])
