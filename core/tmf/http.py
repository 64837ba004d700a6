"""Media types of the TMF APIs: UTF-8 JSON out, JSON and JSON Merge Patch in."""

from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

MERGE_PATCH = "application/merge-patch+json"


class TmfJSONRenderer(JSONRenderer):
    """`application/json; charset=utf-8`, non-ASCII text written as is (no `\\u` escapes).

    Any `Accept` that names JSON (with or without a charset), `*/*` or nothing gets it.
    """

    charset = "utf-8"
    ensure_ascii = False


class MergePatchParser(JSONParser):
    """`application/merge-patch+json` (RFC 7386): a JSON body applied as a merge patch."""

    media_type = MERGE_PATCH
