"""Imports every model module so the metadata is complete (for Alembic and the tests)."""

from srpp.api import models as api_models  # noqa: F401
from srpp.assets import models as assets_models  # noqa: F401
from srpp.auth import models as auth_models  # noqa: F401
from srpp.clauses import models as clauses_models  # noqa: F401
from srpp.contracts import models as contracts_models  # noqa: F401
from srpp.core import models as core_models  # noqa: F401
from srpp.core.db import Base
from srpp.cpv import models as cpv_models  # noqa: F401
from srpp.documents import models as documents_models  # noqa: F401
from srpp.frameworks import models as frameworks_models  # noqa: F401
from srpp.kpis import models as kpis_models  # noqa: F401
from srpp.orgs import models as orgs_models  # noqa: F401
from srpp.payments import models as payments_models  # noqa: F401
from srpp.plans import models as plans_models  # noqa: F401
from srpp.reporting import models as reporting_models  # noqa: F401
from srpp.risks import models as risks_models  # noqa: F401
from srpp.rules import models as rules_models  # noqa: F401
from srpp.suppliers import models as suppliers_models  # noqa: F401
from srpp.tenders import models as tenders_models  # noqa: F401

metadata = Base.metadata

# --- cached areas and the rows they are computed from: a change to any of these rows, made through
# the session by whichever service, import or task, bumps the area's generation (srpp.core.cache)
from srpp.core import cache  # noqa: E402
from srpp.kpis.overview import CACHE_NS as INDICATORS  # noqa: E402
from srpp.payments.figures import CACHE_NS as PAYMENT_FIGURES  # noqa: E402

cache.watch(PAYMENT_FIGURES, payments_models.Invoice, payments_models.Payment, contracts_models.WorkStoppage)
# a new contract or supplier has no invoices yet; the figures group by these of theirs
cache.watch(PAYMENT_FIGURES, contracts_models.Contract, on=("update", "delete"), columns=("municipality_id", "supplier_id"))
cache.watch(PAYMENT_FIGURES, orgs_models.Supplier, on=("update", "delete"), columns=("kind",))
cache.watch(INDICATORS, kpis_models.Indicator, kpis_models.IndicatorValue, risks_models.Risk,
            risks_models.RiskIndicator)
