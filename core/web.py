from django.http import JsonResponse
from django.views.generic import TemplateView


class HomeView(TemplateView):
    template_name = "home.html"


def healthz(request):
    return JsonResponse({"status": "ok"})
