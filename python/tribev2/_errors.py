"""Errors for what this version of the package does not do yet (raised, never ignored)."""


class NotSupportedYet(NotImplementedError):
    """An upstream option or input this version of tribev2 does not support yet."""
