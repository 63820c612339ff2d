"""What every chainsite ModelAdmin and inline shares."""

from django.db import models

# Curators paste bare domains ("example.com"); read them as https, as Django 6 will.
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}
