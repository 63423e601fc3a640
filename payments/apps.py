from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Paiements"

    def ready(self) -> None:
        from orders import hooks
        from payments import services, sweeps  # noqa: F401  (registers the sweeps)

        hooks.SIGN_REFUSALS.append(services.funding_refusals)
        hooks.ORDER_ENDED.append(services.order_ended)
