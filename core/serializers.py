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
