"""Errors of a nested service, renamed for the form that called it."""

from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


@contextmanager
def errors_under(prefix: str):
    """Re-raise a nested service's errors keyed under `prefix` ("dispensing__reason_note"), so that the caller
    can put each beside its own field."""
    try:
        yield
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError(
                {
                    prefix if name == NON_FIELD_ERRORS else f"{prefix}__{name}": messages
                    for name, messages in error.message_dict.items()
                }
            ) from error
        raise ValidationError({prefix: error.messages}) from error
