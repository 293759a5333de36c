"""What `Run.figure` leaves for the page: the saved PNG shown as it is, and a numbered figure
with its caption, alt text, data link and a reproduce command that pastes."""

import nbformat
import pytest

from companion import plotting
from companion.__main__ import build_parser
from companion.pipeline.record import FIGURE_KEY, Run, alt_text, figure_cells
from companion.pipeline.registry import get_chapter
from companion.pipeline.style import COLUMN_PX, apply_style
from companion.pipeline.tolerance import Exact


@pytest.fixture
def run(tmp_path):
    apply_style()
    return Run(get_chapter("incremental_rank"), "quick", {"alpha": "1e-8"}, tmp_path)


def shown(run, capsys, caption="A line of slope 2. Dotted: the bound."):
    """Record one figure outside IPython, where the recorder prints what it would display."""
    fig, ax = plotting.figure(2.0)
    ax.plot([0, 1], [0, 2])
    run.figure("fig1_line", fig, data={"x": [0, 1]}, tolerance={"x": Exact()}, caption=caption)
    return eval(capsys.readouterr().out)[FIGURE_KEY]  # noqa: S307 (our own dict literal)


def test_the_caption_names_the_data_and_a_command_that_pastes(run, capsys):
    figure = shown(run, capsys)
    assert figure["name"] == "fig1_line"
    assert figure["alt"] == "A line of slope 2."
    caption, legend = figure["caption"].split("\n\n")
    assert caption == "A line of slope 2. Dotted: the bound."
    assert '<a href="../../downloads/incremental_rank/fig1_line.npz">fig1_line.npz</a>' in legend
    command = legend.split("`")[1]  # a Markdown code span: smartquotes leave `--` alone
    # the value as the configuration types it (a float prints 1e-08)
    assert command == "python -m companion run incremental_rank --mode quick -p alpha=1e-08"
    args = build_parser().parse_args(command.split()[3:])
    assert (args.chapter, args.mode, args.param) == ("incremental_rank", "quick",
                                                     [("alpha", "1e-08")])


def test_the_page_shows_the_saved_png_at_the_column_width(run):
    from IPython.core.formatters import format_display_data
    from IPython.display import Image

    fig, ax = plotting.figure(2.0)
    ax.plot([0, 1])
    run.figure("fig1_line", fig, data={"x": [0, 1]}, tolerance={"x": Exact()}, caption="A.")
    png = (run.results_dir / "fig1_line.png").read_bytes()
    data, metadata = format_display_data(Image(data=png, format="png", width=COLUMN_PX))
    assert metadata["image/png"] == {"width": COLUMN_PX}
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and data["image/png"]


def test_alt_text_is_the_first_sentence_without_tex():
    assert alt_text(r"GD on $UU^\top$ at $\alpha=10^{-8}$. (a) seed 0.") == \
        "GD on UU^top at alpha=10^-8."
    assert alt_text("Exact width converges linearly, e.g. 1.5 decades. Then") == \
        "Exact width converges linearly, e.g. 1.5 decades."


def test_an_illegible_figure_is_refused(run):
    fig, ax = plotting.figure(2.0)
    ax.set_title("small", fontsize=7)
    with pytest.raises(ValueError, match="would not be legible on the page: text below 9 pt"):
        run.figure("fig1", fig, data={"x": [0]}, tolerance={"x": Exact()}, caption="A.")


def test_publishing_makes_each_figure_output_a_numbered_figure_of_its_cell():
    def figure_output(name):
        return nbformat.v4.new_output("display_data", data={"image/png": "AAAA"},
                                      metadata={FIGURE_KEY: {"name": name, "caption": "C.",
                                                             "alt": "C."}})

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                               nbformat.v4.new_code_cell("run.figure(...)")])
    notebook.cells[1].outputs = [figure_output("fig1_line")]
    figure_cells(notebook)
    assert "mystnb" not in notebook.cells[0].metadata
    assert notebook.cells[1].metadata["mystnb"] == {
        "figure": {"name": "fig1_line", "caption": "C."}, "image": {"alt": "C."}}
    notebook.cells[0].outputs = [figure_output("a"), figure_output("b")]
    with pytest.raises(ValueError, match="one cell shows the figures"):
        figure_cells(notebook)
