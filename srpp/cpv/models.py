"""The CPV 2008 main vocabulary (9,454 codes, labels in en/lt/lv)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from srpp.core.db import Base
from srpp.orgs.models import localized


class CpvCode(Base):
    __tablename__ = "cpv_codes"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # e.g. 85312100-0
    label_en: Mapped[str] = mapped_column(String(400))
    label_lt: Mapped[str] = mapped_column(String(400))
    label_lv: Mapped[str] = mapped_column(String(400))
    is_art77: Mapped[bool] = mapped_column(default=False)

    @property
    def label(self) -> str:
        return localized(self, "label")

    @property
    def digits(self) -> str:
        return self.code[:8]

    def __repr__(self) -> str:
        return f"<CpvCode {self.code}>"
