"""The JSON API under ``/api/v1`` (tokens, operation registry, OpenAPI document) and its
documentation page."""
