"""The user model in Django's admin, searchable by username and email."""

import pytest

from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["carol", "carol@example.org"])
def test_admin_finds_a_user_by_username_or_email(admin_client, query):
    make_user("carol", email="carol@example.org")
    make_user("dave", email="dave@example.net")
    response = admin_client.get("/admin/accounts/user/", {"q": query})
    assert response.status_code == 200
    assert b"carol@example.org" in response.content
    assert b"dave" not in response.content


def test_admin_search_by_email_alone_finds_the_user(admin_client):
    make_user("erin", email="unrelated-address@example.org")
    response = admin_client.get("/admin/accounts/user/", {"q": "unrelated-address"})
    assert b">erin<" in response.content


def test_a_failed_mail_job_is_listed_in_the_admin(admin_client, jobs):
    from django.db import connection

    from accounts.services import password_reset_request

    password_reset_request(email="gone@example.com")
    (job,) = jobs.pending()
    with connection.cursor() as cursor:  # as the worker records a final failure
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [job.id]
        )
    response = admin_client.get(
        "/admin/procrastinate/procrastinatejob/", {"status": "failed"}
    )
    assert response.status_code == 200
    assert b"accounts.send_password_reset" in response.content
    detail = admin_client.get(f"/admin/procrastinate/procrastinatejob/{job.id}/change/")
    assert detail.status_code == 200
    assert b"gone@example.com" in detail.content
