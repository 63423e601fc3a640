from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Paiements"

    def ready(self) -> None:
        from orders import hooks
        from payments import jobs, services, sweeps  # noqa: F401  (registers sweeps and jobs)

        hooks.SIGN_REFUSALS.append(services.funding_refusals)
        hooks.ORDER_ENDED.append(services.order_ended)
