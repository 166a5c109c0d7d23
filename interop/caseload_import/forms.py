"""The upload form (docs/conventions.md 4): the team to import into, among the manager's, and the file, read
whole; a file the import cannot read at all gets its message here, beside the file (docs/design.md,
Interoperability)."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from recovery_reviews.access import teams_for_user

# The page takes what the site takes in one request (recovery_reviews/middleware.py input_limits), less room for
# the form around the file; a larger caseload goes through the import_caseload command.
PAGE_MAX_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 16 * 1024


class CaseloadUploadForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=None,
        label="Team to import into",
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the teams you manage."},
    )
    file = forms.FileField(
        label="Caseload file (CSV, UTF-8)",
        help_text=f"At most {filesizeformat(PAGE_MAX_BYTES)} here (about 6,000 patients); split a larger file.",
        error_messages={
            "required": "Choose the caseload file to check.",
            "empty": "The file is empty: choose the caseload file with its header and rows.",
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user)
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"

    def clean_file(self) -> tuple[str, bytes]:
        upload = self.cleaned_data["file"]
        if upload.size > PAGE_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the page takes at most {filesizeformat(PAGE_MAX_BYTES)}. "
                "Split it into smaller files (by family name, for instance) and import each."
            )
        return upload.name, upload.read()
