from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def percent(value):
    return "not enough data" if value is None else f"{round(value * 100)}%"


@register.filter
def days_used(top, prefix):
    return top.days_used(prefix)


@register.simple_tag(takes_context=True)
def page_errors(context):
    """Every error of the forms on this page, and every error message a view left for it (a form that posts
    elsewhere and comes back by a redirect), for the summary at its top and the title (base.html)."""
    from django.contrib.messages import ERROR

    from recovery_reviews.forms import page_errors as errors

    told = [("", "", str(m)) for m in context.get("messages", ()) if m.level == ERROR]
    return told + errors(context.flatten().values())


@register.filter
def field_group(field):
    """A filter's label, control, errors and help text, as `|as_crispy_field` writes them (recovery_reviews.forms)."""
    from recovery_reviews.forms import field_group as written

    return written(field)
