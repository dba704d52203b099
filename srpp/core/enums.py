"""Enums that carry a translatable label."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext


class LabelledEnum(str, enum.Enum):
    """str-valued enum; subclasses define ``_labels`` as {value: lazy string}."""

    @property
    def label(self) -> str:
        labels = type(self).labels()
        return str(labels.get(self.value, self.value))

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    def __str__(self) -> str:
        return self.value


_ = lazy_gettext
