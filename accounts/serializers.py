from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Role, User
from core.api import StrictSerializerMixin


class TokenRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class UserSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=4096,
        trim_whitespace=False,
        style={"input_type": "password"},
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "email",
            "first_name",
            "last_name",
            "role",
            "vendor",
            "establishment",
            "signatory",
            "is_active",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["date_joined", "last_login"]

    def validate(self, attrs):
        # Through the API, an establishment user is created with its establishment (the demo
        # loader attaches it afterwards, through the service).
        role = attrs.get("role", getattr(self.instance, "role", ""))
        establishment = attrs.get("establishment", getattr(self.instance, "establishment", None))
        touched = self.instance is None or bool({"role", "establishment"} & set(attrs))
        if role == Role.ESTABLISHMENT and establishment is None and touched:
            raise serializers.ValidationError(
                {
                    "establishment": [
                        serializers.ErrorDetail(
                            str(
                                _(
                                    "Un utilisateur d'établissement doit être rattaché à un "
                                    "établissement."
                                )
                            ),
                            code="required",
                        )
                    ]
                }
            )
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError(
                {
                    "password": [
                        serializers.ErrorDetail(
                            str(_("Ce champ est obligatoire.")), code="required"
                        )
                    ]
                }
            )
        return attrs


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "vendor",
            "establishment",
            "signatory",
        ]
        read_only_fields = fields
