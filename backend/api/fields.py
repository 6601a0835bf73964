"""
Serializer fields that keep JSON's types: a number or a list where the schema
says string is a 400, not silently turned into text.

DRF's CharField accepts ``5`` and ``1.5`` as ``"5"`` and ``"1.5"``. The OpenAPI
schema says ``type: string``, so a client sending a number has a bug, and keel
tells it so instead of storing whatever ``str()`` made of it.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class CharField(serializers.CharField):
    """DRF's CharField, refusing any value that is not a JSON string."""

    default_error_messages = {"not_a_string": _("Not a valid string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class EmailField(CharField, serializers.EmailField):
    """DRF's EmailField, refusing any value that is not a JSON string."""
