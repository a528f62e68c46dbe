"""The errors matref reports. Each carries a message a person can act on.

`CannotCheck` and its subclasses mean the input could not be checked (exit status 2);
`ShapeClash` means the identity is false as written because something does not conform
(exit status 1).
"""

from __future__ import annotations


class MatrefError(Exception):
    """Base class for every error matref reports to a user."""


class CannotCheck(MatrefError):
    """The input cannot be checked: bad syntax, an undeclared symbol, unsupported notation."""


class FormulaSyntaxError(CannotCheck):
    """The text is not in the formula language. `column` is 1-based; `text` is the source."""

    def __init__(self, message: str, text: str = "", column: int | None = None):
        self.text = text
        self.column = column
        super().__init__(message)

    def pointer(self) -> str:
        """The source line with a caret under the offending column (empty if unknown)."""
        if self.column is None or not self.text or "\n" in self.text or len(self.text) > 200:
            return ""
        return f"  {self.text}\n  {' ' * (self.column - 1)}^"


class UndeclaredSymbol(CannotCheck):
    """A symbol is used but not declared in the `where` clause."""


class Unsupported(CannotCheck):
    """The notation is understood but matref cannot evaluate it."""


class ShapeClash(MatrefError):
    """The identity is false as written: a product does not conform or the sides differ in shape."""


class CatalogueError(MatrefError):
    """A catalogue data file is invalid; the message starts with `file:line`."""
