"""Where each chapter's claims hold: one page per chapter, written from its sweep.

``book/generated/robustness/<chapter>.md`` shows, for every check of the chapter's last sweep
(``companion.pipeline.sweep``), on how many seeds it holds at each point of the grid: a table
coloured like a heat map, one row per point and one column per check, with the cells inside
the check's declared scope outlined. A failure inside the scope is a defect (the tests fail on
it); a failure outside is where the paper's law stops, which the page lists as a result.
Consistency checks (identities, preconditions, solvers) have a table of their own. Below them,
the explorable figure: a slider over the grid's explore axis switching between the precomputed
frames, which are inlined in the page with the few lines of script that switch them, so the
page works offline, with no server.

The table of contents lists a page for every chapter; a chapter that declares no grid yet gets
a page that says so.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .paths import Paths
from .record import parameter_text
from .registry import CHAPTERS, Chapter
from .sweep import TABLE_COLUMNS, Swept, in_scope_failures, load_sweep

# A cell's colour says on how many seeds the check holds at that point; its outline, that the
# point lies inside the check's declared scope.
STYLE = "".join([
    "<style>",
    ".companion-robustness{border-collapse:separate;border-spacing:2px}",
    ".companion-robustness td,.companion-legend span{padding:2px 8px;text-align:center}",
    ".holds-all{background:#cdebd0;color:#111}",
    ".holds-some{background:#fbe3b5;color:#111}",
    ".holds-none{background:#f4c4c4;color:#111}",
    ".in-scope{outline:2px solid #1d4f91;outline-offset:-3px}",
    ".companion-explorer img[hidden]{display:none}",  # whatever the theme does to images
    "</style>"])


def write_robustness_pages(paths: Paths) -> list[Path]:
    """Write the robustness page of every chapter; return their paths."""
    written = []
    for chapter in CHAPTERS.values():
        page = paths.robustness_page(chapter.name)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(robustness_page(chapter, load_sweep(chapter.name, paths)))
        written.append(page)
    return written


def robustness_page(chapter: Chapter, swept: Swept | None) -> str:
    """The Markdown (with HTML tables and the slider) of one chapter's robustness page."""
    link = f"[the chapter](../../chapters/{chapter.name}.ipynb)"
    if not chapter.grids:
        body = [f"This chapter declares no sweep grid yet: its claims are checked at the "
                f"configuration {link} runs, on its seeds only."]
    elif swept is None:
        body = [f"Not swept yet: run `python -m companion sweep {chapter.name}`."]
    else:
        body = [STYLE, "", introduction(chapter, swept.record, link), "",
                *check_sections(swept), *explore_section(chapter, swept)]
    return "\n".join([f"# {chapter.title}: where the claims hold", "", *body, ""])


def check_sections(swept: Swept) -> list[str]:
    """The claims' table, what each covers and where each stops; then the consistency
    checks' table."""
    catalogue, rows = swept.record["checks"], swept.rows
    axes = list(swept.record["grid"]["axes"])
    claims = [i for i, check in catalogue.items() if check["kind"] == "claim"]
    consistency = [i for i, check in catalogue.items() if check["kind"] == "consistency"]
    lines = ["## Claims", "", heat_table(rows, axes, claims, catalogue), "",
             *scope_failures(rows), *check_list(claims, catalogue),
             "### Where the laws stop", "", *where_laws_stop(rows, claims), ""]
    if consistency:
        lines += ["## Consistency checks", "",
                  "Identities, preconditions and solver tolerances: they must hold at every "
                  "point.", "", heat_table(rows, axes, consistency, catalogue), "",
                  *check_list(consistency, catalogue)]
    return lines


def explore_section(chapter: Chapter, swept: Swept) -> list[str]:
    """The explorable figure, starting at the chapter's own value of the explore axis."""
    record = swept.record
    if not record["frames"]:
        return []
    explore = record["grid"]["explore"]
    default = parameter_text(getattr(chapter.modes[record["mode"]], explore))
    return [f"## Explore: `{explore}`", "",
            f"The chapter's explorable figure at each value of `{explore}` in the grid (first "
            "seed); drag the slider.", "",
            explorer(chapter.name, explore, record["frames"], swept.folder, default)]


def introduction(chapter: Chapter, record: dict, link: str) -> str:
    grid = record["grid"]
    axes = "; ".join(f"`{name}` in " + ", ".join(f"`{parameter_text(v)}`" for v in values)
                     for name, values in grid["axes"].items())
    base = ", ".join(f"`{name}={parameter_text(v)}`" for name, v in grid["base"].items())
    swatches = " ".join(f'<span class="holds-{share}">{label}</span>' for share, label in
                        (("all", "every seed"), ("some", "some seeds"), ("none", "no seed")))
    return (f"The checks of {link}, evaluated at every point of its {record['mode']} grid "
            f"({axes}; {grid['n_seeds']} seeds each{'; ' + base if base else ''}) by "
            f"`{record['command']}` at commit `{record['commit'][:10]}` ({record['tasks']} "
            f"evaluations, {record['checks_cpu_s']:.0f} s of CPU in all). Each cell counts the "
            f'seeds on which the check holds at that point: <span class="companion-legend">'
            f"{swatches}</span>. A cell outlined "
            '<span class="companion-legend"><span class="in-scope">like this</span></span> '
            "lies inside the region the paper's statement covers (the check's scope): a "
            "failure there is a defect and fails the tests; a failure outside it shows where "
            "the law stops.")


def heat_table(rows: list[dict], axes: list[str], ids: list[str], catalogue: dict) -> str:
    """An HTML table: a row per point, a cell per check counting the seeds it holds on."""
    points: dict[tuple, dict[str, list[dict]]] = {}
    for row in rows:
        if row["id"] in ids:
            point = tuple(row[axis] for axis in axes)
            points.setdefault(point, {}).setdefault(row["id"], []).append(row)
    head = "".join(f"<th><code>{html.escape(a)}</code></th>" for a in axes) + "".join(
        f'<th title="{html.escape(catalogue[i]["name"])}">{html.escape(i)}</th>' for i in ids)
    body = []
    for point, by_check in points.items():
        where = ", ".join(f"{a}={v}" for a, v in zip(axes, point))
        cells = "".join(f"<td>{html.escape(v)}</td>" for v in point)
        cells += "".join(_cell(by_check.get(i, []), i, catalogue[i], where) for i in ids)
        body.append(f"<tr>{cells}</tr>")
    return (f'<table class="companion-robustness"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _cell(measured: list[dict], check_id: str, check: dict, where: str) -> str:
    if not measured:
        return "<td>–</td>"
    holding = sum(row["passed"] for row in measured)
    share = "all" if holding == len(measured) else "some" if holding else "none"
    in_scope = any(row["in_scope"] for row in measured)
    worst = min(measured, key=lambda row: row["passed"])  # a failing seed if there is one
    title = (f"{check_id} {check['name']} at {where}: holds on {holding} of {len(measured)} "
             f"seeds (e.g. seed {worst['seed']}: {worst['value']:.4g} {worst['op']} "
             f"{worst['bound']:.4g}); {'inside' if in_scope else 'outside'} its scope")
    classes = f"holds-{share}" + (" in-scope" if in_scope else "")
    text = f"{holding}/{len(measured)}"
    if in_scope and share != "all":
        text = f"<strong>{text}{' known' if worst['known_failure'] else ' ✗'}</strong>"
    return f'<td class="{classes}" title="{html.escape(title)}">{text}</td>'


def scope_failures(rows: list[dict]) -> list[str]:
    failures = in_scope_failures(rows)
    if not failures:
        return []
    return [":::{warning}", f"{len(failures)} checks fail inside their declared scope: "
            "a defect of the chapter (or of its scope), which the tests report.", "",
            *[f"- {line}" for line in failures[:20]], ":::", ""]


def check_list(ids: list[str], catalogue: dict) -> list[str]:
    """What each check measures, the region it covers and why its bound is what it is."""
    lines = []
    for check_id in ids:
        check = catalogue[check_id]
        parts = [f"- **{check_id}** `{check['name']}`: {check['quantity']}."]
        for label, key in (("Scope", "scope"), ("Why this bound", "why"),
                           ("Known not to reproduce", "known_failure")):
            if check[key]:
                parts.append(f"{label}: {check[key].rstrip('.')}.")
        lines.append(" ".join(parts))
    return lines + [""]


def where_laws_stop(rows: list[dict], ids: list[str]) -> list[str]:
    """For each claim, the points outside its scope where it fails on some seed."""
    lines = []
    for check_id in ids:
        failing: dict[str, list[int]] = {}
        for row in rows:
            if row["id"] == check_id and not row["in_scope"] and not row["passed"]:
                where = ", ".join(f"{name}={row[name]}" for name in row
                                  if name not in TABLE_COLUMNS)
                failing.setdefault(where, []).append(row["seed"])
        if failing:
            lines.append(f"- **{check_id}** fails outside its scope at "
                         + "; ".join(f"{where} (seeds {', '.join(map(str, seeds))})"
                                     for where, seeds in failing.items()))
    return lines or ["Every claim holds at every point of the grid, outside its scope too."]


def explorer(chapter: str, axis: str, frames: list[dict], folder: Path, default: str) -> str:
    """The slider and its frames as HTML: every frame inlined, all but one hidden, and a
    script that shows the frame the slider points at."""
    values = [frame["value"] for frame in frames]
    start = values.index(default) if default in values else 0
    name = f"explore-{chapter}"
    images = "".join(
        f'<img src="data:image/png;base64,'
        f'{base64.b64encode((folder / frame["file"]).read_bytes()).decode()}" '
        f'alt="{html.escape(chapter)}: {html.escape(axis)} = {html.escape(frame["value"])}" '
        f'data-value="{html.escape(frame["value"])}" style="max-width:100%"'
        f'{"" if index == start else " hidden"}>' for index, frame in enumerate(frames))
    return "\n".join([
        f'<div class="companion-explorer" id="{name}">',
        f'<label for="{name}-slider"><code>{html.escape(axis)}</code> = '
        f'<output id="{name}-value">{html.escape(values[start])}</output></label>',
        f'<input type="range" id="{name}-slider" min="0" max="{len(frames) - 1}" step="1" '
        f'value="{start}" style="display:block;width:100%;max-width:700px">',
        images, "</div>", "",
        "<script>",
        "(function () {",
        f'  const root = document.getElementById("{name}");',
        '  const slider = root.querySelector("input"), shown = root.querySelector("output");',
        '  const frames = Array.from(root.querySelectorAll("img"));',
        "  slider.addEventListener(\"input\", function () {",
        "    const index = Number(slider.value);",
        "    frames.forEach(function (frame, i) { frame.hidden = i !== index; });",
        "    shown.textContent = frames[index].dataset.value;",
        "  });",
        "})();",
        "</script>"])
