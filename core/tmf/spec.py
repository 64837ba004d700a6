"""The TMF v4 swagger documents, used to check request bodies and to document the API.

Each app that implements a TMF API keeps the specification's swagger file next to its
API code (e.g. `product_lifecycle/api/TMF620-ProductCatalog-v4.0.0.swagger.json`, a
copy of the file in `../shared/reference/tmf/`) and declares it once:

    TMF620 = TmfSpec(api="productCatalogManagement", path=Path(__file__).with_name(...),
                     prefix="TMF620")

Request bodies are validated against the specification's own `<Resource>_Create` and
`<Resource>_Update` definitions, so "mandatory per the specification" and "an object
where the specification has an array" mean exactly what the specification says, for
nested objects too. The same definitions become the OpenAPI components (see
`core.tmf.openapi`).

Known quirks of the v4 files, handled here: `Customer_Update` lists `engagedParty` as
required although a PATCH is partial (PATCH bodies are validated without top-level
`required`; the merged result is then validated against `_Create`).
"""

import copy
import functools
import json
import re
from pathlib import Path

from jsonschema import Draft4Validator

_REGISTRY: dict[str, "TmfSpec"] = {}
_REF = re.compile(r"^#/definitions/(.+)$")


class TmfSpec:
    """One TMF Open API v4 swagger document and the definitions it holds."""

    def __init__(self, *, api: str, path: Path, prefix: str):
        self.api = api
        self.path = Path(path)
        self.prefix = prefix
        self.used: set[str] = set()
        _REGISTRY[prefix] = self

    @functools.cached_property
    def document(self) -> dict:
        with self.path.open(encoding="utf-8") as handle:
            return json.load(handle)

    @property
    def definitions(self) -> dict:
        return self.document["definitions"]

    def validator(self, name: str, *, partial: bool = False) -> Draft4Validator:
        """A JSON Schema validator for one definition (partial: top level not required)."""
        return self._validator(name, partial)

    @functools.cache  # noqa: B019  (one instance per specification file, kept for the process)
    def _validator(self, name: str, partial: bool) -> Draft4Validator:
        if name not in self.definitions:
            raise KeyError(f"{self.prefix} has no definition {name}")
        definitions = copy.deepcopy(self.definitions)
        root = definitions[name]
        if partial:
            root = {k: v for k, v in root.items() if k != "required"}
        schema = {**root, "definitions": definitions}
        return Draft4Validator(schema)

    def problems(self, name: str, instance, *, partial: bool = False) -> list[str]:
        """Every way `instance` breaks the definition, as `path: message` lines."""
        errors = sorted(
            self.validator(name, partial=partial).iter_errors(instance),
            key=lambda e: (list(e.absolute_path), e.message),
        )
        lines = []
        for error in errors:
            where = _json_path(error.absolute_path)
            lines.append(f"{self.prefix} {name} {where}: {_message(error)}")
        return lines

    def component(self, name: str) -> str:
        """The OpenAPI component name of a definition, remembering that it is used."""
        if name not in self.definitions:
            raise KeyError(f"{self.prefix} has no definition {name}")
        self.used.add(name)
        return f"{self.prefix}_{name}"

    def ref(self, name: str) -> dict:
        """An OpenAPI `$ref` to the definition's component."""
        return {"$ref": f"#/components/schemas/{self.component(name)}"}

    def components(self) -> dict[str, dict]:
        """The used definitions and everything they reference, as OpenAPI 3 schemas."""
        pending = list(self.used)
        seen: set[str] = set()
        result = {}
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            converted, refs = self._convert(self.definitions[name])
            result[f"{self.prefix}_{name}"] = converted
            pending.extend(refs - seen)
        return result

    def _convert(self, schema) -> tuple[dict, set[str]]:
        refs: set[str] = set()

        def walk(node):
            if isinstance(node, dict):
                out = {}
                for key, value in node.items():
                    if key == "$ref" and isinstance(value, str) and _REF.match(value):
                        target = _REF.match(value).group(1)
                        refs.add(target)
                        return {"$ref": f"#/components/schemas/{self.prefix}_{target}"}
                    out[key] = walk(value)
                return out
            if isinstance(node, list):
                return [walk(item) for item in node]
            return node

        return walk(schema), refs


def registered_specs() -> list[TmfSpec]:
    """Every specification an app has declared (for the OpenAPI document)."""
    return list(_REGISTRY.values())


def _json_path(parts) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def _message(error) -> str:
    if error.validator == "required":
        return f"mandatory attribute missing ({error.message})"
    if error.validator == "type":
        found = _JSON_TYPES.get(type(error.instance), "number")
        return f"wrong type: expected {error.validator_value}, got {found}"
    text = error.message
    return text if len(text) <= 200 else text[:197] + "..."
