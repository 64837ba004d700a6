"""Every portal page is for one enterprise: others' objects are 404, operators cannot
administer, anonymous users go to the login, and CSRF is enforced."""

import pytest
from django.test import Client
from django.urls import reverse

from core.roles import Role
from customers.models import RegisteredRecipient
from tests.customers.factories import RegisteredRecipientFactory, active_enterprise
from tests.portal.factories import enterprise_user

pytestmark = pytest.mark.django_db

PAGES = [
    "portal:dashboard",
    "portal:recipients",
    "portal:recipient_export",
    "portal:signatures",
    "portal:subscriptions",
    "portal:send",
    "portal:send_bulk",
    "portal:messages",
    "portal:message_export",
    "portal:replies",
    "portal:reply_export",
]
ADMIN_PAGES = ["portal:recipient_add", "portal:recipient_import", "portal:users", "portal:api_keys"]


@pytest.fixture
def two_enterprises(manager):
    a = active_enterprise(manager, name="甲企业有限公司")
    b = active_enterprise(manager, name="乙企业有限公司")
    return a, b


@pytest.mark.parametrize("name", PAGES + ADMIN_PAGES)
def test_anonymous_users_are_sent_to_the_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", PAGES)
def test_every_page_opens_for_an_operator(client, two_enterprises, name):
    a, _b = two_enterprises
    client.force_login(enterprise_user(a, role=Role.ENTERPRISE_OPERATOR))
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_operators_cannot_open_administrator_pages(client, two_enterprises, name):
    a, _b = two_enterprises
    client.force_login(enterprise_user(a, role=Role.ENTERPRISE_OPERATOR))
    assert client.get(reverse(name)).status_code == 403
    client.force_login(enterprise_user(a, role=Role.ENTERPRISE_ADMIN))
    assert client.get(reverse(name)).status_code == 200


def test_an_operator_cannot_opt_out_a_number(client, two_enterprises):
    a, _b = two_enterprises
    recipient = RegisteredRecipientFactory(enterprise=a)
    client.force_login(enterprise_user(a, role=Role.ENTERPRISE_OPERATOR))
    response = client.post(reverse("portal:recipient_opt_out", args=[recipient.pk]))
    assert response.status_code == 403
    assert RegisteredRecipient.objects.get(pk=recipient.pk).opted_out_at is None


def test_another_enterprises_recipient_is_not_found(client, two_enterprises):
    a, b = two_enterprises
    theirs = RegisteredRecipientFactory(enterprise=b, msisdn="13900001111")
    client.force_login(enterprise_user(a))
    assert client.post(reverse("portal:recipient_opt_out", args=[theirs.pk])).status_code == 404
    assert RegisteredRecipient.objects.get(pk=theirs.pk).opted_out_at is None
    listing = client.get(reverse("portal:recipients"), {"q": "13900001111"})
    assert list(listing.context["recipients"]) == []
    export = client.get(reverse("portal:recipient_export")).content.decode("utf-8-sig")
    assert "13900001111" not in export


def test_another_enterprises_user_cannot_be_deactivated(client, two_enterprises):
    a, b = two_enterprises
    theirs = enterprise_user(b, role=Role.ENTERPRISE_OPERATOR)
    client.force_login(enterprise_user(a))
    assert client.post(reverse("portal:user_deactivate", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert theirs.username not in client.get(reverse("portal:users")).content.decode()


def test_staff_users_are_sent_to_the_admin(client, manager):
    client.force_login(manager)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_posts_without_a_csrf_token_are_refused(two_enterprises):
    a, _b = two_enterprises
    recipient = RegisteredRecipientFactory(enterprise=a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(enterprise_user(a))
    response = client.post(reverse("portal:recipient_opt_out", args=[recipient.pk]))
    assert response.status_code == 403
    assert RegisteredRecipient.objects.get(pk=recipient.pk).opted_out_at is None


def test_login_is_throttled(client, two_enterprises, settings):
    a, _b = two_enterprises
    user = enterprise_user(a)
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("portal:login"), {"username": user.username, "password": "nope"})
    response = client.post(
        reverse("portal:login"), {"username": user.username, "password": "pass-1234"}
    )
    assert response.status_code == 200 and "锁定" in response.content.decode()


def test_password_reset_sends_a_link_by_email(client, two_enterprises, mailoutbox):
    a, _b = two_enterprises
    user = enterprise_user(a)
    response = client.post(reverse("portal:password_reset"), {"email": user.email})
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == [user.email] and "/portal/password-reset/" in mail.body


def test_operators_cannot_request_changes_or_signatures(client, manager):
    from customers.models import Signature
    from fulfillment.models import Order
    from tests.fulfillment.factories import active_subscription, one_month_later

    subscription = active_subscription(manager)
    client.force_login(enterprise_user(subscription.enterprise, role=Role.ENTERPRISE_OPERATOR))
    url = reverse("portal:change_request", args=[subscription.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"action": "suspend", "effective_date": one_month_later().date().isoformat()}
    )
    assert response.status_code == 403 and not Order.objects.filter(channel="portal").exists()
    before = Signature.objects.count()
    client.post(reverse("portal:signatures"), {"text": "【测试签名】"})
    assert Signature.objects.count() == before


def test_the_opt_out_redirect_stays_on_the_site(client, two_enterprises):
    a, _b = two_enterprises
    recipient = RegisteredRecipientFactory(enterprise=a)
    client.force_login(enterprise_user(a))
    url = reverse("portal:recipient_opt_out", args=[recipient.pk])
    response = client.post(url, {"next": "https://evil.example.com/"})
    assert response["Location"] == reverse("portal:recipients")
