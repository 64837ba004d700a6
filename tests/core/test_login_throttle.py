import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}
    )


def test_admin_login_locks_after_repeated_failures_even_with_the_right_password(
    client, manager, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = _login(client, manager.username, "wrong")
        assert response.status_code == 200
    response = _login(client, manager.username, "pass-1234")
    assert response.status_code == 200
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_clears_earlier_failures(client, manager, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _login(client, manager.username, "wrong")
    _login(client, manager.username, "wrong")
    assert _login(client, manager.username, "pass-1234").status_code == 302
    client.logout()
    _login(client, manager.username, "wrong")
    _login(client, manager.username, "wrong")
    assert _login(client, manager.username, "pass-1234").status_code == 302
