"""Bringing an existing caseload in from CSV (docs/design.md, Interoperability): columns.py (the format, as data),
parser.py (bytes to typed rows and problems), checks.py (against the record), writer.py (the bulk write, the
schedules and the audit log), services.py (the dry run and the all-or-nothing commit), the manager's pages
(forms.py, views.py, urls.py) and the import_caseload command (interop/management/commands/)."""
