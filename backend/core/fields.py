"""
Body fields that take what the OpenAPI schema says they take, no more.

DRF's CharField accepts ``5`` and ``1.5`` as ``"5"`` and ``"1.5"``, and checks
``max_length`` after trimming whitespace, so 151 characters with a leading
space pass a limit of 150. The schema says ``type: string, maxLength: 150`` of
what the client sends, so these fields refuse a value that is not a JSON
string, and measure it before trimming. Likewise DRF's BooleanField takes
``0``, ``"yes"`` and ``"off"`` where the schema says ``type: boolean``; the
BooleanField here takes JSON's true and false only. (A query string's values
are all text: a filter's flag stays DRF's BooleanField.)
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class CharField(serializers.CharField):
    """DRF's CharField, for JSON strings only, its max_length on the raw value."""

    default_error_messages = {"not_a_string": _("Not a valid string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length, length=len(data))
        return super().to_internal_value(data)


class EmailField(CharField, serializers.EmailField):
    """DRF's EmailField, with the checks of CharField above."""


class BooleanField(serializers.BooleanField):
    """DRF's BooleanField, for JSON's true and false only."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
