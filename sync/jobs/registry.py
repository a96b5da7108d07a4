"""The job registry: the table from a job's name to its function, which the queue runs by name.

It imports nothing else of Cocreate: ``sync.runtime`` (the composition root) lists every job function explicitly
and hands the table to the queue, so no job is registered by the side effect of an import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

JobFunction = Callable[..., Any]
"""A job: ``function(runtime, *args)``, safe to run again (the queue retries it); its name is kept in the ledger."""


def job_table(*functions: JobFunction) -> Mapping[str, JobFunction]:
    """``{function.__name__: function}``; a name listed twice is a programming error, refused at start."""
    table: dict[str, JobFunction] = {}
    for function in functions:
        if function.__name__ in table:
            raise ValueError(f"job {function.__name__!r} is listed twice")
        table[function.__name__] = function
    return table
