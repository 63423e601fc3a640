from django.apps import AppConfig


class ReferencingConfig(AppConfig):
    name = "referencing"
    verbose_name = "Référencement"
