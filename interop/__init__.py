"""A service's data in and out (docs/design.md, Interoperability): an existing caseload brought in from CSV
(caseload_import), the NDTMS monthly return (ndtms) and a patient's record as FHIR R4 (fhir). It reads every app
and is read by none but the top's URLs."""
