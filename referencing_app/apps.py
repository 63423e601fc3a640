from django.apps import AppConfig


class ReferencingConfig(AppConfig):
    """The `referencing` app. Its Python package is `referencing_app` because PyPI's
    `referencing` (used by jsonschema, hence drf-spectacular and schemathesis) owns the name."""

    name = "referencing_app"
    label = "referencing"
    verbose_name = "Référencement"

    def ready(self) -> None:
        from referencing_app import sweeps  # noqa: F401  (registers the sweeps)
