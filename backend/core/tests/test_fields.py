"""core.fields take the JSON types the schema states, and refuse the rest."""

import pytest

from rest_framework.exceptions import ValidationError

from core import fields


@pytest.mark.parametrize("value", [True, False])
def test_boolean_field_takes_json_booleans(value):
    assert fields.BooleanField().run_validation(value) is value


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "off", None, [True]])
def test_boolean_field_refuses_what_drf_would_coerce(value):
    with pytest.raises(ValidationError):
        fields.BooleanField().run_validation(value)
