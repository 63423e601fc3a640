from django.apps import AppConfig


class SonsConfig(AppConfig):
    name = "sons"
    verbose_name = "Programme"
