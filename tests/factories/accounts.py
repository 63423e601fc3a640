import factory

from accounts.models import Role, User

PASSWORD = "Motdepasse-de-test-2025"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.fr")
    role = Role.REVIEWER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def admin_user_form(user: User, **overrides) -> dict:
    """The POST of the Django admin's user change form as the page sends it (unchecked boxes
    absent)."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "vendor": str(user.vendor_id) if user.vendor_id else "",
        "establishment": str(user.establishment_id) if user.establishment_id else "",
        "signatory": user.signatory,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "user_permissions": [],
        # (read-only in our admin; required by Django's own user form)
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not False}
