"""The OCDS release-package validator, importable by the tests: the same code as ``flask ocds
validate`` (``srpp.opendata.validation``, with the schema copies in ``srpp/opendata/schema`` and their
sources in its PROVENANCE.json)."""

from srpp.opendata.validation import (  # noqa: F401
    codelist_errors,
    codelists,
    duplicate_id_errors,
    reference_errors,
    release_schema,
    validate_package,
    validate_release,
)
