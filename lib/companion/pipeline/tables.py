"""Tables of claims and configurations, and verdicts: one format for the chapters, the status
page and the benchmarks, and the one place where text is escaped for a table cell.

The claims tables are HTML, not Markdown: each cell carries the label a phone shows beside it
when the site's stylesheet stacks a row into a card, statements stay literal text (an ``_`` or a
``*`` in ``max_t |x_t - x*|`` is not emphasis), and a row never splits at a ``|``.
"""

from __future__ import annotations

import dataclasses
import html
import re

from ..params import why

VERDICTS = {"all": "reproduced", "some": "partly reproduced", "none": "not reproduced",
            "empty": "no claims recorded"}
# sphinx-design's badge colours (its stylesheet is on every page, light and dark)
VERDICT_COLOURS = {"reproduced": "success", "partly reproduced": "warning",
                   "not reproduced": "danger", "no claims recorded": "secondary"}
VERDICT_ADMONITIONS = {"reproduced": "tip", "partly reproduced": "warning",
                       "not reproduced": "error", "no claims recorded": "note"}
RESULT_COLOURS = {True: "success", False: "danger"}
OPERATORS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def cell(text: str) -> str:
    """Text for a Markdown table cell: a bare "|" (as in |x - y|) would end the cell."""
    return str(text).replace("|", "\\|")


def format_value(value: float) -> str:
    """A measured value as the tables print it: 4 significant digits."""
    return f"{value:.4g}"


def verdict(claims: list[dict]) -> str:
    """Reproduced if every check passes, partly if some do, not reproduced if none do."""
    passed = [c["passed"] for c in claims]
    if not passed:
        return VERDICTS["empty"]
    return VERDICTS["all" if all(passed) else "some" if any(passed) else "none"]


def badge(text: str, colour: str) -> str:
    """An inline coloured label (HTML, valid inside Markdown text and table cells)."""
    return (f'<span class="sd-badge sd-bg-{colour} sd-bg-text-{colour}">'
            f"{html.escape(text)}</span>")


def verdict_admonition(claims: dict, provenance: dict, wall_s: float, folder: str) -> str:
    """The box under a chapter's title: its verdict, then in one line how the run was made
    (``claims`` as claims.json holds them; ``folder``, the URL of the chapter's results)."""
    checks = claims["claims"]
    text = verdict(checks)
    failing = sorted({c["claim_id"] for c in checks if not c["passed"]}, key=claim_order)
    failing_note = f" ({', '.join(failing)} fail)" if failing else ""
    dirty = ", uncommitted changes" if provenance["dirty"] else ""
    return "\n".join([
        f":::{{admonition}} Verdict: {text}",
        f":class: {VERDICT_ADMONITIONS[text]}",
        f"{sum(c['passed'] for c in checks)} of {len(checks)} checks pass{failing_note}: "
        f"{claims['mode']} mode, executed {provenance.get('executed_at', '')} in "
        f"{wall_s:.0f} s on {provenance['device']}, commit `{provenance['commit'][:10]}`"
        f"{dirty}. Every check is in the table at the end of the page, and in "
        f'<a href="{folder}/claims.json">claims.json</a>.',
        ":::"])


def verdict_badge(claims: list[dict]) -> str:
    text = verdict(claims)
    return badge(text, VERDICT_COLOURS[text])


def claim_order(claim_id: str) -> tuple:
    """Claims in reading order: A1, A2, ..., A10, then C1, ...; within one claim, as recorded."""
    letters, number = re.fullmatch(r"(\D*)(\d*)", claim_id).groups()
    return letters, int(number or 0)


def claim_result(passed: bool, known_failure: str) -> str:
    """The badge of a check's outcome, with the reason when it is known to fail (or should)."""
    result = badge("pass" if passed else "FAIL", RESULT_COLOURS[passed])
    if known_failure and passed:
        return f"{result} expected to fail: remove its known failure"
    if known_failure:
        return f"{result} known: {html.escape(known_failure)}"
    return result


def number(value: float) -> str:
    """A measured value in an HTML cell, never split across lines (``-1e-09`` stays whole)."""
    return f'<span class="number">{format_value(value)}</span>'


def breakable(name: str) -> str:
    """A snake_case name, escaped, that may wrap after each underscore (not mid-word)."""
    return html.escape(name).replace("_", "_<wbr>")


def html_row(cells: dict[str, str], css_class: str = "") -> str:
    """One HTML table row; each cell labelled with its column for the stacked phone layout."""
    row_class = f' class="{css_class}"' if css_class else ""
    return (f"<tr{row_class}>" + "".join(f'<td data-label="{label}">{content}</td>'
                                         for label, content in cells.items()) + "</tr>")


def html_table(css_class: str, rows: list[str], columns: list[str]) -> str:
    """An HTML table styled like the theme's, on consecutive lines (a blank line would end
    Markdown's HTML block); ``rows`` from :func:`html_row`."""
    head = "".join(f"<th>{column}</th>" for column in columns)
    return "\n".join([f'<table class="table companion-table {css_class}">',
                      f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows, "</tbody>", "</table>"])


def claims_table(claims: list[dict]) -> str:
    """Every check in claim order: id and name, the statement as code, measured value against
    its bound in one cell, and a pass/FAIL badge."""
    rows = [html_row({"claim": f"<strong>{html.escape(c['claim_id'])}</strong> "
                               f"<code>{breakable(c['name'])}</code>",
                      "check": f"<code>{html.escape(c['statement'])}</code>",
                      "measured vs bound": f"{number(c['value'])} {OPERATORS[c['op']]} "
                                           f"{number(c['bound'])}",
                      "result": claim_result(c["passed"], c.get("known_failure", ""))},
                     "claim-pass" if c["passed"] else "claim-fail")
            for c in sorted(claims, key=lambda c: claim_order(c["claim_id"]))]
    return html_table("claims", rows, ["claim", "check", "measured vs bound", "result"])


def exploratory_table(exploratory: list[dict]) -> str:
    rows = [html_row({"quantity": f"<code>{breakable(e['name'])}</code>",
                      "meaning": f"<code>{html.escape(e['statement'])}</code>",
                      "measured": number(e["value"])}) for e in exploratory]
    return html_table("exploratory", rows, ["quantity", "meaning", "measured"])


def claims_tables(claims: list[dict], exploratory: list[dict]) -> list[str]:
    """Markdown lines: the claims table, then the exploratory table folded in a dropdown."""
    lines = [claims_table(claims)]
    if exploratory:
        lines += ["", f":::{{dropdown}} Exploratory: {len(exploratory)} quantities shown, "
                      "deliberately not asserted", exploratory_table(exploratory), ":::"]
    return lines


def configuration_table(quick, paper, mode: str, overrides: dict) -> list[str]:
    """Markdown rows: each field with its quick and paper values and why it has them; the
    values this run used are in bold, an overridden field shows the value it was given."""
    rows = ["| parameter | quick | paper | why |", "|---|---|---|---|"]
    for f in dataclasses.fields(quick):
        values = {"quick": getattr(quick, f.name), "paper": getattr(paper, f.name)}
        shown = {m: f"`{v}`" for m, v in values.items()}
        if f.name in overrides:
            shown[mode] = f"~~`{values[mode]}`~~ **`{overrides[f.name]}`**"
        else:
            shown[mode] = f"**{shown[mode]}**"
        rows.append(f"| `{f.name}` | {cell(shown['quick'])} | {cell(shown['paper'])} | "
                    f"{cell(why(quick, f.name))} |")
    return rows
