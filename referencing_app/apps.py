from django.apps import AppConfig


class ReferencingConfig(AppConfig):
    """The `referencing` app. Its Python package is `referencing_app` because PyPI's
    `referencing` (used by jsonschema, hence drf-spectacular and schemathesis) owns the name."""

    name = "referencing_app"
    label = "referencing"
    verbose_name = "Référencement"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from referencing_app import sweeps  # noqa: F401  (registers the sweeps)
        from referencing_app.selectors import forget_scheme_codes
        from sons.models import Category, Scheme, Sector, Wave

        for model in (Scheme, Category, Sector, Wave):
            post_save.connect(forget_scheme_codes, sender=model, dispatch_uid=f"catalogue-{model}")
            post_delete.connect(
                forget_scheme_codes, sender=model, dispatch_uid=f"catalogue-{model}-"
            )
