"""Markdown tables of claims and configurations: one format for chapters, status page and
benchmarks, and the one place where text is escaped for a table cell."""

from __future__ import annotations

import dataclasses

from ..params import why


def cell(text: str) -> str:
    """Text for a Markdown table cell: a bare "|" (as in |x - y|) would end the cell."""
    return str(text).replace("|", "\\|")


def format_value(value: float) -> str:
    """A measured value as the tables print it: 4 significant digits."""
    return f"{value:.4g}"


def claim_result(passed: bool, known_failure: str) -> str:
    """How a check's outcome reads in the chapter and on the status page."""
    if passed:
        return "pass" + (" (**expected to fail**: remove its known failure)" if known_failure
                         else "")
    return "**FAIL**" + (f" (known: {known_failure})" if known_failure else "")


def claims_tables(claims: list[dict], exploratory: list[dict]) -> list[str]:
    """Markdown rows of the claims table and, if any, of the exploratory table."""
    rows = ["| claim | check | measured | bound | result |", "|---|---|---|---|---|"]
    rows += [f"| {c['claim_id']} `{c['name']}` | {cell(c['statement'])} | "
             f"{format_value(c['value'])} | {c['op']} {format_value(c['bound'])} | "
             f"{claim_result(c['passed'], c.get('known_failure', ''))} |" for c in claims]
    if exploratory:
        rows += ["", "Exploratory: shown, deliberately not asserted.", "",
                 "| quantity | meaning | measured |", "|---|---|---|"]
        rows += [f"| `{e['name']}` | {cell(e['statement'])} | {format_value(e['value'])} |"
                 for e in exploratory]
    return rows


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
