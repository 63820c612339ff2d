"""chainsite/wsgi.py, the application gunicorn serves (``make serve``)."""

import os
import subprocess
import sys


def test_the_application_starts_with_its_start_up_objects_frozen():
    """What start-up made is kept out of the garbage collector's full collections. Run in a
    subprocess, so this test run's own collector is left alone."""
    script = "import gc, chainsite.wsgi as w; print(gc.get_freeze_count(), callable(w.application))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chainsite.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    frozen, is_callable = result.stdout.split()
    assert int(frozen) > 0 and is_callable == "True"
