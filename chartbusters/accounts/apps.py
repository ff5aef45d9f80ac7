from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_role_groups(sender, **kwargs) -> None:
    # After every app's migrations (its permissions exist by then): create the role groups and permissions.
    from chartbusters.accounts.services import roles_ensure_groups

    using = kwargs.get("using", "default")
    if using == "default":
        roles_ensure_groups()


class AccountsConfig(AppConfig):
    name = "chartbusters.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_ensure_role_groups, dispatch_uid="chartbusters.accounts.ensure_role_groups")
