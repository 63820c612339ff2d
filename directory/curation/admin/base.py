"""What every chainsite ModelAdmin and inline shares."""

from django import forms
from django.db import models

# Curators paste bare domains ("example.com"); read them as https, as Django 6 will.
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}
# Inline rows stay one line high so a participant's offerings and links fit on a screen.
INLINE_FIELDS = {
    **URL_FIELDS_ASSUME_HTTPS,
    models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})},
}
