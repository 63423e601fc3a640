from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Paiements"

    def ready(self) -> None:
        from payments import sweeps  # noqa: F401  (registers the sweeps)
