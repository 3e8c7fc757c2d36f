"""Errors a user can act on. The CLI prints them as one line instead of a traceback."""


class DeepASMRError(Exception):
    """Base of every error caused by the user's input or files, not by a bug."""


class AudioError(DeepASMRError, ValueError):
    """Audio that cannot be used: missing, corrupt, silent, too short or too long."""


class TextError(DeepASMRError, ValueError):
    """Text that cannot be spoken: empty, too long, unknown language or characters."""


class ModelFilesError(DeepASMRError, FileNotFoundError):
    """A model bundle or a shipped model file is missing or incomplete."""


class DataError(DeepASMRError, ValueError):
    """A manifest, test set or corpus row that cannot be read."""
