"""The admin index's workbench: links to the pages each role works from."""

from django import template
from django.urls import reverse

from core.admin_tools import WORKBENCH_LINKS

register = template.Library()


@register.simple_tag(takes_context=True)
def workbench_links(context):
    """The registered workbench links the current user may open."""
    user = context["request"].user
    return [
        {"label": link.label, "url": reverse(link.url_name), "description": link.description}
        for link in WORKBENCH_LINKS
        if link.permission is None or user.has_perm(link.permission)
    ]
