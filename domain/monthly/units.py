"""Receiving units, branches and the complaint rate per 10,000 orders (the monthly report)."""
from __future__ import annotations

from domain.orders import orders_for
from domain.scoping import covered_unit_ids


def branch_of(units, unit_id):
    name, kind, parent = units.get(unit_id, ("—", None, None))
    if kind == "branch":
        return unit_id
    if kind == "store" and parent in units and units[parent][1] == "branch":
        return parent
    return None


def members_of(units, branch_id):
    """A branch and its stores (the receiving units a branch's figures count)."""
    return sorted([branch_id] + [i for i, (_n, kind, parent) in units.items() if parent == branch_id and kind == "store"])


def by_unit(units, received):
    """Per receiving unit (stores, branch offices, departments), and per branch (itself and its stores)."""
    rows = []
    for unit_id, n in received.items():
        name, kind, _parent = units.get(unit_id, ("—", None, None))
        branch = branch_of(units, unit_id)
        rows.append([unit_id, name, kind, units[branch][0] if branch and branch != unit_id else "", n])
    rows.sort(key=lambda r: (-r[4], r[1]))
    branches = {}
    for unit_id in received:
        branch = branch_of(units, unit_id)
        if branch is not None and branch not in branches:
            members = members_of(units, branch)
            branches[branch] = [branch, units[branch][0], sum(received.get(u, 0) for u in members), members]
    return rows, sorted(branches.values(), key=lambda r: (-r[2], r[1]))


def rates(session, viewer, month, units, received):
    """Complaints per 10,000 orders, for each branch or store with the month's order volume that the
    viewer covers, and overall over those units (a branch's figure includes its stores; a store is
    left out of the overall when its branch has its own)."""
    covered = covered_unit_ids(session, viewer) if viewer is not None else None
    volumes = {u: n for u, n in orders_for(session, month).items()
               if u in units and (covered is None or u in covered) and units[u][1] in ("branch", "store")}
    rows = []
    for unit_id, orders in volumes.items():
        members = members_of(units, unit_id) if units[unit_id][1] == "branch" else [unit_id]
        n = sum(received.get(u, 0) for u in members)
        rows.append([unit_id, units[unit_id][0], units[unit_id][1], orders, n,
                     round(n * 10000 / orders, 2) if orders else None, members])
    rows.sort(key=lambda r: (r[2] != "branch", -(r[5] or 0), r[1]))
    if not rows:
        return {"units": [], "overall": None}
    counted = [r for r in rows if r[2] == "branch" or branch_of(units, r[0]) not in volumes]
    members = sorted({u for r in counted for u in r[6]})
    orders, n = sum(r[3] for r in counted), sum(r[4] for r in counted)
    return {"units": rows, "overall": [orders, n, round(n * 10000 / orders, 2) if orders else None, members]}
