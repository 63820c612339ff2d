"""Error pages that never touch the database, so they render while it is down."""

import sys

from django.db import DatabaseError
from django.http import HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def server_error(request):
    """500 page; 503 with Retry-After when the cause is an unreachable database, which
    is usually brief (a restart, a failover) and not a bug."""
    error = sys.exc_info()[1]
    unavailable = isinstance(error, DatabaseError)
    template = loader.get_template("503.html" if unavailable else "500.html")
    response = HttpResponse(template.render({}), status=503 if unavailable else 500)
    if unavailable:
        response["Retry-After"] = "30"
    return response
