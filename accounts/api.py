from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.receivers import client_ip
from accounts.serializers import (
    MeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from core.permissions import IsAnsAdmin


class TokenObtainView(APIView):
    """Exchange a username and password for a new API token, shown this once (only its hash is
    kept). Repeated failures slow down."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.token_obtain(
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
            ip_address=client_ip(request),
            request=request,
        )
        return Response({"token": issued.key})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Accounts of the service, managed by ANS admins. Users are deactivated, never deleted."""

    serializer_class = UserSerializer
    permission_classes = [IsAnsAdmin]
    filterset_fields = ["role", "vendor", "is_active"]

    def get_queryset(self):
        return selectors.user_list()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.user_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.user_update(
            actor=self.request.user, user=serializer.instance, **data
        )
