"""The interop app's models. Each part keeps its own in its subpackage (interop/<part>/models.py) and is imported
here, so that Django and makemigrations find them: add your part's import below, one line each."""

from interop.caseload_import.models import CaseloadImport  # noqa: F401
from interop.ndtms.models import NdtmsAgency, NdtmsConsent  # noqa: F401
