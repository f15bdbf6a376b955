from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
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


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Any other path under /api/: the API's JSON 404 (after authentication, as the rest of the API), never the
    site's HTML page; a path missing its trailing slash says which one exists."""

    def dispatch_404(self, request: Request, *args, **kwargs) -> Response:
        message = f"No such API endpoint: {request.method} {request.path[:200]}"
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            message += f"; did you mean {request.path[:200]}/ ?"
        raise NotFound(message)

    get = post = put = patch = delete = head = options = dispatch_404
