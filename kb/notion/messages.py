"""Errors and warnings of the importer: each names the file and, where there is one, the line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """An error or warning about one line of an export (``line`` is None for the whole file)."""

    path: str
    line: int | None
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}" if self.line else f"{self.path}: {self.text}"


class NotionError(ValueError):
    """The export cannot be imported; the message names the file and, where there is one, the line."""

    def __init__(self, path: str, line: int | None, text: str):
        self.message = Message(path, line, text)
        super().__init__(str(self.message))


class ConversionBug(RuntimeError):
    """A check on the converter's own output failed (a line lost, invalid front matter, unsafe HTML)."""


class Warnings(list):
    """Warnings of one run, each once, in order."""

    def add(self, path: str, line: int | None, text: str) -> None:
        msg = Message(path, line, text)
        if msg not in self:
            self.append(msg)
