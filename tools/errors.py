"""The one exception type that carries a user-facing sentence."""


class ToolkitError(Exception):
    """A mistake the user can fix; the message is one plain sentence naming the fix.

    Sessions turn it into ``session.error(message)``; command-line entry points
    print it and exit non-zero.  It never reaches the user as a traceback.
    """

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class HelpShown(Exception):
    """Raised after ``--help`` printed its text: the session ends successfully."""
