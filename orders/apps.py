from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Commandes et installations"

    def ready(self) -> None:
        from orders import jobs, receivers, sweeps  # noqa: F401  (hooks, sweeps, jobs register)
