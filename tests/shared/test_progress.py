"""Progress bars: drawn only when the pipeline asks for them, on the process's own stderr."""

import io
import sys

from companion import progress


def test_no_bar_unless_the_pipeline_asks(monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    items = range(5)
    assert progress.progress(items, "steps") is items
    monkeypatch.setenv(progress.PROGRESS_ENV, "")
    assert progress.progress(items, "steps") is items


def test_bar_goes_to_the_original_stderr_not_the_captured_one(monkeypatch):
    terminal, captured = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", terminal)
    monkeypatch.setattr(sys, "stderr", captured)
    monkeypatch.setenv(progress.PROGRESS_ENV, "toy")
    monkeypatch.setenv(progress.POSITION_ENV, "1")
    assert list(progress.progress(range(3), "steps")) == [0, 1, 2]
    assert "toy: steps" in terminal.getvalue()
    assert captured.getvalue() == ""
