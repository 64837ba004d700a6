"""Small template helpers for the portal's pages."""

from django import template

register = template.Library()


@register.filter
def startswith(value, prefix) -> bool:
    """Whether a string starts with another (the navigation marks the current section)."""
    return str(value).startswith(str(prefix))
