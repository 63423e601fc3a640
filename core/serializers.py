from rest_framework import serializers

from core.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "seq",
            "at",
            "actor",
            "actor_repr",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "from_state",
            "to_state",
            "reason",
            "changes",
            "hash",
            "prev_hash",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        from core.models import Notification

        model = Notification
        fields = [
            "id",
            "created_at",
            "event",
            "subject",
            "body",
            "object_type",
            "object_id",
            "read_at",
        ]
        read_only_fields = fields


class JobSerializer(serializers.Serializer):
    """A long launch recorded first (docs/decisions/0014): `job` is its id; `state` is `queued`,
    `running`, `done` or `failed`; `result` (the report) once done, `error` if it failed."""

    job = serializers.UUIDField(source="pk", read_only=True)
    kind = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    result = serializers.JSONField(read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True)
