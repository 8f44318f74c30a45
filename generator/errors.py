"""One error hierarchy. Every error a user can cause is a GenError: the CLI prints
its message (with the file, line and hint it carries) and exits with status 2."""

from __future__ import annotations


class GenError(Exception):
    """A problem the user can fix: bad bank, bad option, bad roster, bad output folder."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class BankError(GenError):
    """The bank file is not valid YAML or does not describe a valid exam."""


class OptionError(GenError):
    """A family option is unknown, of the wrong type, or outside its allowed range."""


class InfeasibleError(GenError):
    """No well-posed problem exists under the given options."""


class LatexError(GenError):
    """pdflatex failed; the message carries the relevant lines of its log."""

    exit_code = 1


class LatexMissingError(GenError):
    """pdflatex is not installed."""

    exit_code = 1


class ToolError(GenError):
    """An external program other than pdflatex (pdftoppm) is missing or failed."""

    exit_code = 1
