"""The interop app's admin: each part registers its models in its own subpackage (interop/<part>/admin.py), imported
here so that the admin finds them: add your part's import below, one line each."""

import interop.caseload_import.admin  # noqa: F401
import interop.ndtms.admin  # noqa: F401
