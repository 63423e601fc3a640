from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from core.models import Notification
from tests.factories.accounts import UserFactory


def _notify(user, n=1):
    for i in range(n):
        Notification.objects.create(
            recipient=user, event="demo", subject=f"Objet {i}", body="Corps"
        )


def test_each_user_sees_only_their_notifications_and_marks_them_read(client_for):
    client = client_for(Role.VENDOR)
    other = UserFactory(role=Role.REVIEWER)
    _notify(client.user, 2)
    _notify(other, 3)
    body = client.get("/api/v1/notifications/").json()
    assert body["count"] == 2
    first = body["results"][0]["id"]
    assert client.post(f"/api/v1/notifications/{first}/read/").json()["read_at"] is not None
    assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 1
    other_id = str(Notification.objects.filter(recipient=other).first().pk)
    assert client.post(f"/api/v1/notifications/{other_id}/read/").status_code == 404
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 3


def test_notifications_need_authentication(api, db):
    assert api.get("/api/v1/notifications/").status_code == 401


def test_notification_list_query_count_is_constant(client_for):
    client = client_for(Role.REVIEWER)
    _notify(client.user, 5)
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/notifications/", {"page_size": size}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
