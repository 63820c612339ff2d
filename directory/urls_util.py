"""Helpers for the websites participants give."""

from urllib.parse import urlsplit


def domain_of(url):
    """The host of ``url`` without ``www.``, lowercased: ``https://www.NVIDIA.com/x`` -> ``nvidia.com``."""
    if not url:
        return ""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


# Hosts where many organisations each have their own path: an organisation there is the
# host plus its first path segments (``github.com/vllm-project/vllm``), not the host.
SHARED_HOSTS = {
    "github.com": 2,
    "gitlab.com": 2,
    "gitee.com": 2,
    "huggingface.co": 1,
    "modelscope.cn": 2,
    "bitbucket.org": 2,
}


def site_of(url):
    """What tells one organisation's website from another's: the domain
    (``domain_of``), on a shared host followed by the path that names the organisation
    or project, lowercased (``https://github.com/vLLM-project/vllm/tree/main`` ->
    ``github.com/vllm-project/vllm``)."""
    domain = domain_of(url)
    depth = SHARED_HOSTS.get(domain)
    if not depth:
        return domain
    try:
        path = urlsplit(url if "//" in url else f"//{url}").path
    except ValueError:
        return domain
    parts = [p for p in path.lower().split("/") if p][:depth]
    return "/".join([domain, *parts])


def web_url(value):
    """``value`` when it is an ``http``/``https`` address, else "".

    Forms, the importer and the models' validators accept nothing else, but a row
    written past them (a raw SQL fix, an old backup) must still never become a
    ``javascript:`` or ``data:`` link, so everything that renders a stored URL as a link
    passes it through here (the ``safe_url`` template filter).
    """
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value if value.lower().startswith(("http://", "https://")) else ""
