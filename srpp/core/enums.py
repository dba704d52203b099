"""Enums that carry a translatable label."""

from __future__ import annotations

import enum


class LabelledEnum(enum.StrEnum):
    """str-valued enum; subclasses return {value: lazy translated label} from ``labels()``."""

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

