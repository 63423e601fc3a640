"""Refuse API requests whose query parameters carry NUL bytes (PostgreSQL text cannot hold them):
a clear 400 in the documented format instead of a database error."""

from django.http import JsonResponse

NUL = "\x00"


class RejectNullBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            bad = [
                k for k, values in request.GET.lists() if NUL in k or any(NUL in v for v in values)
            ]
            if bad:
                errors = [
                    {
                        "code": "null_characters_not_allowed",
                        "detail": "Les caractères nuls ne sont pas admis.",
                        "attr": name.replace(NUL, ""),
                    }
                    for name in bad
                ]
                return JsonResponse({"type": "validation_error", "errors": errors}, status=400)
        return self.get_response(request)
