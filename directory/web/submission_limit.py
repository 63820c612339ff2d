"""Per-IP limit on public submissions, kept in Django's cache.

A fixed window: the first counted submission from an address opens a window of
``settings.SUBMISSION_RATE_WINDOW`` seconds in which at most
``settings.SUBMISSION_RATE_LIMIT`` submissions are accepted. Only stored submissions
count, so a form with mistakes can be corrected and resent freely.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

HONEYPOT_COUNTER = "submissions:honeypot"


def _keys(ip):
    return f"submissions:rate:{ip}:count", f"submissions:rate:{ip}:reset"


def retry_after(ip):
    """Seconds until ``ip`` may submit again, or 0 when it is under the limit."""
    count_key, reset_key = _keys(ip)
    values = cache.get_many([count_key, reset_key])
    if values.get(count_key, 0) < settings.SUBMISSION_RATE_LIMIT:
        return 0
    return max(1, int(values.get(reset_key, time.time()) - time.time()) + 1)


def count_submission(ip):
    """Count one stored submission from ``ip`` against its window."""
    count_key, reset_key = _keys(ip)
    window = settings.SUBMISSION_RATE_WINDOW
    # add() only sets a missing key, so the window starts at the first submission.
    cache.add(reset_key, time.time() + window, window)
    cache.add(count_key, 0, window)
    try:
        cache.incr(count_key)
    except ValueError:
        # The key expired between add() and incr(): this submission opens a new window.
        cache.set(count_key, 1, window)


def count_honeypot(ip):
    """Count (and log) a submission caught by the honeypot; returns the running total."""
    cache.add(HONEYPOT_COUNTER, 0, None)
    try:
        total = cache.incr(HONEYPOT_COUNTER)
    except ValueError:
        cache.set(HONEYPOT_COUNTER, 1, None)
        total = 1
    logger.warning("honeypot caught a submission from %s (%s so far)", ip, total)
    return total
