from django.contrib.auth.backends import AllowAllUsersModelBackend


class AccountBackend(AllowAllUsersModelBackend):
    """Checks the password of inactive and expired accounts too, so that the sign-in form can
    say why such an account is refused (``SignInForm.confirm_login_allowed``) instead of
    reporting a wrong password. ``AccountValidityMiddleware`` ends their open sessions."""
