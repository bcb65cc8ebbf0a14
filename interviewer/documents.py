"""Where the bank's documents are: the project's shipped folder and the folder of people's uploads.

The two are kept apart because they are trusted differently. The shipped folder (`knowledge/`) is the bank the
project answers for: its files are read in name order and merge with each other (a curated file answers a
question another file only lists), and its README documents the format. Uploads live under
`$INTERVIEWER_HOME/uploads/`, never in the project's folder; each one stands alone, read oldest first, and may
add questions but never change a shipped one (the rule is applied in `knowledge.load_bank`). Only the shipped
folder's README is skipped: an upload named README.md is a document like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interviewer.errors import KnowledgeError

UPLOADS_LABEL = "uploads"
"""How messages, sources and the index manifest name the uploads folder: `uploads/mine.md:12`."""


@dataclass(frozen=True)
class Document:
    """One Markdown file of the bank."""

    path: Path
    label: str
    """How messages, `file:line` sources and the index manifest name it."""
    shipped: bool
    """Part of the project's own bank, or an upload."""


def is_markdown(path: Path) -> bool:
    """A visible Markdown file, whatever the case of its extension (`notes.MD`); temporary files are hidden."""
    return path.suffix.casefold() == ".md" and not path.name.startswith(".") and path.is_file()


def shipped_documents(knowledge_dir: Path) -> list[Document]:
    """The project's documents by name, without the folder's README."""
    if not knowledge_dir.is_dir():
        raise KnowledgeError(f"Knowledge folder {knowledge_dir} does not exist; create it and add Q&A documents.")
    paths = [path for path in knowledge_dir.iterdir() if is_markdown(path) and path.stem.casefold() != "readme"]
    return [Document(path, path.name, shipped=True) for path in sorted(paths)]


def uploaded_documents(uploads_dir: Path | None) -> list[Document]:
    """People's uploads, oldest first (a later upload never takes a question from an earlier one)."""
    if uploads_dir is None or not uploads_dir.is_dir():
        return []
    paths = sorted(
        (path for path in uploads_dir.iterdir() if is_markdown(path)),
        key=lambda path: (path.stat().st_mtime_ns, path.name),
    )
    return [Document(path, f"{UPLOADS_LABEL}/{path.name}", shipped=False) for path in paths]


def find_documents(knowledge_dir: Path, uploads_dir: Path | None = None) -> list[Document]:
    """Every document of the bank in the order it is read: the shipped ones, then the uploads."""
    return shipped_documents(knowledge_dir) + uploaded_documents(uploads_dir)
