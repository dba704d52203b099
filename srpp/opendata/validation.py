"""Validate OCDS 1.1 release packages against the copies of the schemas in ``schema/`` (their sources
in ``schema/PROVENANCE.json``): the core release schema patched with each extension the package
declares (JSON Merge Patch, RFC 7386), checked with ``jsonschema.Draft4Validator`` and format
checking; then what a JSON Schema cannot say:

* closed codelists: a codelist field whose ``openCodelist`` is false holds a code of its CSV (the
  core codelists plus the extensions' ``+`` additions);
* unique ``id`` in every array of objects;
* references: every organisation referenced (buyer, procuring entity, tenderers, award and contract
  suppliers, payers, payees, budget source parties) is in ``parties`` with the matching role; every
  ``relatedLot``/``relatedLots`` is a lot of the tender; every ``relatedImplementationMilestone`` is a
  milestone of the same contract; every ``awardID`` is an award.

Used by ``flask ocds validate`` and by the tests (``tests/ocds_validation.py``).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import json_merge_patch
from jsonschema import Draft4Validator, FormatChecker

from srpp.opendata.ocds import EXTENSIONS

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
CORE = SCHEMA_DIR / "core" / "1.1"
EXTENSION_DIRS = {url: SCHEMA_DIR / "extensions" / name for name, url in EXTENSIONS.items()}
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not DATE_TIME.match(value):
        return False
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and not re.search(r"\s", value)


def _read(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@cache
def release_schema(extensions: tuple[str, ...]) -> dict[str, Any]:
    """The core release schema patched with the extensions (by URL, in order)."""
    schema = _read(CORE / "release-schema.json")
    for url in extensions:
        schema = json_merge_patch.merge(schema, _read(EXTENSION_DIRS[url] / "release-schema.json"))
    return schema


@cache
def codelists(extensions: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Codelist file name → its codes (core, then each extension's own lists and ``+``/``-`` changes)."""
    out: dict[str, set[str]] = {}

    def codes(path: Path) -> set[str]:
        with open(path, encoding="utf-8", newline="") as fh:
            return {row["Code"] for row in csv.DictReader(fh)}

    for path in sorted((CORE / "codelists").glob("*.csv")):
        out[path.name] = codes(path)
    for url in extensions:
        folder = EXTENSION_DIRS[url] / "codelists"
        for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
            if path.name.startswith("+"):
                out.setdefault(path.name[1:], set()).update(codes(path))
            elif path.name.startswith("-"):
                out.setdefault(path.name[1:], set()).difference_update(codes(path))
            else:
                out[path.name] = codes(path)
    return {name: frozenset(values) for name, values in out.items()}


def package_schema() -> dict[str, Any]:
    schema = copy.deepcopy(_read(CORE / "release-package-schema.json"))
    schema["properties"]["releases"]["items"] = {"type": "object"}  # each release is checked on its own
    return schema


# --- the checks ---------------------------------------------------------------------------------------

def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def codelist_errors(data: Any, schema: dict[str, Any], root: dict[str, Any], lists: dict[str, frozenset[str]],
                    path: str = "") -> Iterator[str]:
    schema = _resolve(schema, root)
    name = schema.get("codelist")
    if name and schema.get("openCodelist") is False:
        values = data if isinstance(data, list) else [data]
        for value in values:
            if value is not None and value not in lists.get(name, frozenset()):
                yield f"{path}: {value!r} is not in the closed codelist {name}"
    if isinstance(data, dict):
        props = schema.get("properties", {})
        for key, value in data.items():
            if key in props:
                yield from codelist_errors(value, props[key], root, lists, f"{path}/{key}")
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for n, value in enumerate(data):
            yield from codelist_errors(value, schema["items"], root, lists, f"{path}/{n}")


def duplicate_id_errors(data: Any, path: str = "") -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from duplicate_id_errors(value, f"{path}/{key}")
    elif isinstance(data, list):
        seen: set[str] = set()
        for n, value in enumerate(data):
            if isinstance(value, dict) and "id" in value:
                ident = str(value["id"])
                if ident in seen:
                    yield f"{path}/{n}/id: {ident!r} is not unique in the array"
                seen.add(ident)
            yield from duplicate_id_errors(value, f"{path}/{n}")


def reference_errors(release: dict[str, Any]) -> Iterator[str]:
    roles = {p.get("id"): set(p.get("roles", [])) for p in release.get("parties", [])}

    def org(ref: Any, role: str, path: str) -> Iterator[str]:
        if not isinstance(ref, dict):
            return
        if ref.get("id") not in roles:
            yield f"{path}: organisation {ref.get('id')!r} is not in parties"
        elif role not in roles[ref["id"]]:
            yield f"{path}: party {ref['id']!r} lacks the role {role!r}"

    tender = release.get("tender", {})
    lots = {str(lot.get("id")) for lot in tender.get("lots", [])}
    yield from org(release.get("buyer"), "buyer", "/buyer")
    yield from org(tender.get("procuringEntity"), "procuringEntity", "/tender/procuringEntity")
    for n, ref in enumerate(tender.get("tenderers", [])):
        yield from org(ref, "tenderer", f"/tender/tenderers/{n}")
    for n, entry in enumerate(release.get("planning", {}).get("budget", {}).get("budgetBreakdown", [])):
        yield from org(entry.get("sourceParty"), "sourceParty", f"/planning/budget/budgetBreakdown/{n}/sourceParty")

    def lot_refs(items: list[Any], path: str) -> Iterator[str]:
        for n, it in enumerate(items):
            if "relatedLot" in it and str(it["relatedLot"]) not in lots:
                yield f"{path}/{n}/relatedLot: {it['relatedLot']!r} is not a lot of the tender"

    yield from lot_refs(tender.get("items", []), "/tender/items")
    awards = {str(a.get("id")) for a in release.get("awards", [])}
    for n, award in enumerate(release.get("awards", [])):
        for m, ref in enumerate(award.get("suppliers", [])):
            yield from org(ref, "supplier", f"/awards/{n}/suppliers/{m}")
        for lot in award.get("relatedLots", []):
            if str(lot) not in lots:
                yield f"/awards/{n}/relatedLots: {lot!r} is not a lot of the tender"
        yield from lot_refs(award.get("items", []), f"/awards/{n}/items")
    for n, contract in enumerate(release.get("contracts", [])):
        if str(contract.get("awardID")) not in awards:
            yield f"/contracts/{n}/awardID: {contract.get('awardID')!r} is not an award"
        for m, ref in enumerate(contract.get("suppliers", [])):
            yield from org(ref, "supplier", f"/contracts/{n}/suppliers/{m}")
        impl = contract.get("implementation", {})
        milestones = {str(ms.get("id")) for ms in impl.get("milestones", [])}
        for m, tr in enumerate(impl.get("transactions", [])):
            where = f"/contracts/{n}/implementation/transactions/{m}"
            yield from org(tr.get("payer"), "payer", f"{where}/payer")
            yield from org(tr.get("payee"), "payee", f"{where}/payee")
            ref = tr.get("relatedImplementationMilestone")
            if ref is not None and str(ref.get("id")) not in milestones:
                yield f"{where}/relatedImplementationMilestone: {ref.get('id')!r} is not a milestone of the contract"


def validate_release(release: dict[str, Any], extensions: tuple[str, ...]) -> list[str]:
    schema = release_schema(extensions)
    where = release.get("ocid", "?") if isinstance(release, dict) else "?"
    errors = [f"{where}: /{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft4Validator(schema, format_checker=FORMATS).iter_errors(release)]
    if not isinstance(release, dict):
        return errors
    errors += [f"{where}: {e}" for e in codelist_errors(release, schema, schema, codelists(extensions))]
    errors += [f"{where}: {e}" for e in duplicate_id_errors(release)]
    errors += [f"{where}: {e}" for e in reference_errors(release)]
    return errors


def validate_package(package: dict[str, Any]) -> list[str]:
    """Every problem of the package and its releases (an empty list: valid)."""
    errors = [f"package: /{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft4Validator(package_schema(), format_checker=FORMATS).iter_errors(package)]
    declared = tuple(package.get("extensions", []))
    unknown = [url for url in declared if url not in EXTENSION_DIRS]
    errors += [f"package: /extensions: no copy of the extension {url}" for url in unknown]
    known = tuple(url for url in declared if url in EXTENSION_DIRS)
    seen: dict[tuple[str, str], int] = {}
    for n, release in enumerate(package.get("releases", [])):
        errors += validate_release(release, known)
        key = (release.get("ocid"), release.get("id"))
        if key in seen:
            errors.append(f"{key[0]}: release id {key[1]!r} is used twice (releases {seen[key]} and {n})")
        seen[key] = n
    return errors
