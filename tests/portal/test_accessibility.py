"""An automated accessibility pass over the portal's main pages (server-rendered HTML).

Checked here: the page declares its language, starts with a skip link to the main
content, has one h1, every visible form control has a label (a <label for>, or an
aria-label), every table column header has a scope, images have alt text, and a
language switcher is on every page. Contrast and keyboard use are checked in
the browser journey (focus styles) and by the fixed palette in portal.css.
"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from core.roles import Role
from tests.customers.factories import RegisteredRecipientFactory, active_enterprise
from tests.portal.factories import enterprise_user

pytestmark = pytest.mark.django_db

MAIN_PAGES = [
    "portal:dashboard",
    "portal:recipients",
    "portal:recipient_add",
    "portal:recipient_import",
    "portal:signatures",
    "portal:subscriptions",
    "portal:users",
    "portal:api_keys",
    "portal:send",
    "portal:send_bulk",
    "portal:messages",
    "portal:replies",
]


class _Audit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.first_link = None
        self.h1 = 0
        self.labels: set[str] = set()
        self.controls: list[dict] = []
        self.unscoped_headers = 0
        self.images_without_alt = 0
        self.language_switch = False
        self._in_thead = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "a" and self.first_link is None:
            self.first_link = a
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if a.get("type") not in ("hidden", "submit", "button") and "hidden" not in a:
                self.controls.append(a)
            if a.get("name") == "language":
                self.language_switch = True
        elif tag == "thead":
            self._in_thead = True
        elif tag == "th" and self._in_thead and not a.get("scope"):
            self.unscoped_headers += 1
        elif tag == "img" and "alt" not in a:
            self.images_without_alt += 1

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_thead = False


def audit(html: str) -> _Audit:
    parser = _Audit()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("name", MAIN_PAGES)
def test_main_pages_pass_the_accessibility_checks(client, manager, name):
    enterprise = active_enterprise(manager)
    RegisteredRecipientFactory(enterprise=enterprise)
    client.force_login(enterprise_user(enterprise, role=Role.ENTERPRISE_ADMIN))

    page = audit(client.get(reverse(name)).content.decode())

    assert page.lang in ("zh-hans", "en")
    assert page.first_link and page.first_link.get("href") == "#main"
    assert page.h1 == 1
    unlabelled = [
        c for c in page.controls if c.get("id") not in page.labels and not c.get("aria-label")
    ]
    assert unlabelled == []
    assert page.unscoped_headers == 0 and page.images_without_alt == 0
    assert page.language_switch


def test_the_login_page_passes_too_and_switches_to_english(client):
    page = audit(client.get(reverse("portal:login")).content.decode())
    assert page.lang == "zh-hans" and page.language_switch and page.h1 == 1
    assert all(c.get("id") in page.labels for c in page.controls)

    client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:login")})
    english = client.get(reverse("portal:login")).content.decode()
    assert audit(english).lang == "en"


def test_field_errors_are_announced_and_tied_to_their_field(client, manager):
    enterprise = active_enterprise(manager)
    client.force_login(enterprise_user(enterprise))
    html = client.post(reverse("portal:recipient_add"), {"msisdn": "123"}).content.decode()
    assert 'aria-invalid="true"' in html
    assert 'id="id_msisdn_error"' in html and "id_msisdn_error" in html.split('id="id_msisdn"')[0]
    assert 'role="alert"' in html


@pytest.fixture
def english_catalogue():
    """The compiled English catalogue (`manage.py compiletranslations`; .mo files are
    build output, not committed), with Django's per-process cache reset."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compiletranslations", verbosity=0)
    trans_real._translations = {}
    trans_real._default = None
    yield
    trans_real._translations = {}
    trans_real._default = None


def test_the_portal_is_in_english_after_switching(client, manager, english_catalogue):
    enterprise = active_enterprise(manager)
    client.force_login(enterprise_user(enterprise))
    client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:dashboard")})

    for name, phrase in [
        ("portal:dashboard", "Daily delivery rate, last 30 days"),
        ("portal:send", "What the recipient sees"),
        ("portal:api_keys", "API keys and webhooks"),
        ("portal:recipients", "Registered recipients"),
        ("portal:invoices", "<h1>Invoices</h1>"),
        ("portal:tickets", "<h1>Fault reports</h1>"),
    ]:
        html = client.get(reverse(name)).content.decode()
        assert phrase in html and "Skip to main content" in html
    # the menu names the lists in the plural (the same words are singular on the models)
    assert ">Invoices</a>" in html and ">Fault reports</a>" in html


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_palette_meets_wcag_aa_contrast_for_text():
    import re
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "portal" / "portal.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    white = "#ffffff"
    pairs = [
        ("ink", white),
        ("ink", colours["bg"]),
        ("muted", white),
        ("muted", colours["bg"]),
        ("primary", white),  # links, buttons' borders
        ("ok", white),
        ("warn", white),
        ("bad", white),
    ]
    for name, background in pairs:
        assert contrast(colours[name], background) >= 4.5, name
    # White text on the navigation bar and the primary buttons, normal and hovered.
    assert contrast(white, colours["primary"]) >= 4.5
    assert contrast(white, colours["primary-dark"]) >= 4.5
    # The focus ring stands out from the page background (non-text contrast, 3:1).
    assert contrast(colours["focus"], white) >= 3


def test_the_message_list_does_not_query_per_row(client, manager, django_assert_max_num_queries):
    from smsgw.services import sms_enqueue
    from tests.smsgw.factories import registered_numbers, sending_subscription

    sub = sending_subscription(manager, recipients=30)
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="通知")
    client.force_login(enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:messages"))
    assert len(response.context["messages_page"]) == 30


def test_the_navigation_marks_the_current_section(client, manager):
    enterprise = active_enterprise(manager)
    client.force_login(enterprise_user(enterprise))
    html = client.get(reverse("portal:send_bulk")).content.decode()
    assert html.count('aria-current="page"') == 1
    assert f'href="{reverse("portal:send")}" aria-current="page"' in html
