from django.apps import AppConfig


class SonsConfig(AppConfig):
    name = "sons"
    verbose_name = "Programme"

    def ready(self) -> None:
        from sons import jobs  # noqa: F401  (registers its long launches)
