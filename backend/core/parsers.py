"""
keel's body parser for the API: DRF's JSONParser, with a bound on nesting.

Python's json module recurses once per nesting level and raises RecursionError,
not ValueError, when a body nests deeper than the interpreter's recursion limit
allows from where the parser runs (about 950 levels inside a view). DRF catches
only ValueError, so such a body was a 500; here it is a malformed body's 400.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser


class JSONParser(DRFJSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
