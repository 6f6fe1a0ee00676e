"""Import every model module, so that the metadata knows all tables."""

from tracker.accounts import models as account_models  # noqa: F401
from tracker.alerts import models as alert_models  # noqa: F401
from tracker.city import models as city_models  # noqa: F401
from tracker.core import site as site_models  # noqa: F401
from tracker.facilities import models as facility_models  # noqa: F401
from tracker.hazards import models as hazard_models  # noqa: F401
from tracker.imports import models as import_models  # noqa: F401
from tracker.indicators import models as indicator_models  # noqa: F401
from tracker.ogc import cells as ogc_cell_models  # noqa: F401
from tracker.outbox import models as outbox_models  # noqa: F401
from tracker.plan import models as plan_models  # noqa: F401
from tracker.projects import audit as project_audit_models  # noqa: F401
from tracker.projects import history as project_history_models  # noqa: F401
from tracker.projects import models as project_models  # noqa: F401
from tracker.reports import models as report_models  # noqa: F401
from tracker.restrictions import models as restriction_models  # noqa: F401
from tracker.serving import answer_cache as answer_cache_models  # noqa: F401
from tracker.updates import models as update_models  # noqa: F401
