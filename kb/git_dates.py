"""Each page's last commit kept across `mkdocs serve` rebuilds until HEAD moves (kb/incremental.py
uses it), and :class:`WarningCount`, which tells a step that logged a warning: such a step's result
is never kept, so that ``--strict`` sees the warning again on the next build.
"""

from __future__ import annotations

import logging


class WarningCount(logging.Handler):
    """Counts the warnings logged under ``mkdocs`` while a step runs."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1

    def __enter__(self):
        logging.getLogger("mkdocs").addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger("mkdocs").removeHandler(self)


class GitDates:
    """git-revision-date-localized's page dates (``Util.get_git_commit_timestamp``), by page file."""

    def __init__(self):
        self.head: str | None = None  # the commit the dates below were read at
        self.dates: dict[tuple[str, bool], tuple] = {}  # (page file, first commit?) -> (hash, time)

    def wrap(self, config) -> None:
        """git-revision-date-localized asks git for every page's last commit on every build (with
        its parallel processing off, as mkdocs.yml has it: one ``git log`` a page, 2.4 s of a
        profiled 500-page edit). A page's date depends on the history only: kept until HEAD moves."""
        plugin = config.plugins.get("git-revision-date-localized")
        util = getattr(plugin, "util", None)  # made anew by the plugin's on_config, which runs before kb's
        if util is None or not hasattr(util, "get_git_commit_timestamp") or not hasattr(util, "get_head_commit"):
            return
        try:
            head = util.get_head_commit(config["docs_dir"])
        except Exception:  # noqa: BLE001 - no git history: the plugin asks (and falls back) itself
            return
        if not head:
            return
        if head != self.head:
            self.head, self.dates = head, {}
        real, dates = util.get_git_commit_timestamp, self.dates

        def kept_git_commit_timestamp(path, is_first_commit=False):
            key = (str(path), bool(is_first_commit))
            if key not in dates:
                with WarningCount() as warned:
                    found = real(path=path, is_first_commit=is_first_commit)
                if warned.count:  # not kept: --strict sees the warning on the next build too
                    return found
                dates[key] = found
            return dates[key]

        util.get_git_commit_timestamp = kept_git_commit_timestamp
