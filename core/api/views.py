from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_responses
from core.api.serializers import MeSerializer


class MeView(APIView):
    """The signed-in user and the teams (groups) they belong to."""

    @extend_schema(responses={200: MeSerializer, **error_responses()}, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
