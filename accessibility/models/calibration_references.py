"""Reference travel times resolved to routable legs: trips and GVB means."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_array, identity
from scipy.spatial import cKDTree

from .._errors import InputError
from .._util import show
from ..graph import RoadGraph, attach_settings, network_arrays, project
from ..vocabulary import DESTINATIONS, NEAREST_MZ, NEAREST_OZ

logger = logging.getLogger(__name__)

#: Central-place classes that count as a destination of each "nearest" kind.
_FACILITY_CLASSES = {NEAREST_OZ: DESTINATIONS["oz"], NEAREST_MZ: DESTINATIONS["mz"]}
#: The "nearest" kind of each GVB indicator column, and back.
_INDICATORS = {"t_oz_min": NEAREST_OZ, "t_mz_min": NEAREST_MZ}
_INDICATOR_OF = {v: k for k, v in _INDICATORS.items()}
_SHORT = {NEAREST_OZ: "OZ", NEAREST_MZ: "MZ"}
#: Reason of a GVB none of whose members is on the network (summarised in reports).
_OUTSIDE = "no member is on the network (outside the extract)"

# ------------------------------------------------------------ reference values


def _check_municipalities(municipalities: pd.DataFrame) -> pd.DataFrame:
    net = network_arrays(municipalities, what="municipalities")
    m = pd.DataFrame({"ags": municipalities["ags"].astype("str").to_numpy(),
                      "node": net.node, "access_s": net.access_s})
    for col in ("central_place", "gvb", "name"):
        if col in municipalities.columns:
            m[col] = municipalities[col].astype("str").where(
                municipalities[col].notna(), "").to_numpy()
    if "area_km2" in municipalities.columns:
        m["area_km2"] = pd.to_numeric(municipalities["area_km2"], errors="coerce").to_numpy()
    for col in ("lon", "lat"):
        if col in municipalities.columns:
            m[col] = pd.to_numeric(municipalities[col], errors="coerce").to_numpy()
    if m["ags"].duplicated().any():
        raise InputError(f"the municipality table has duplicated AGS "
                         f"{show(m.loc[m['ags'].duplicated(), 'ags'])}")
    return m.set_index("ags", drop=False)


def _base_access_speed(municipalities: pd.DataFrame) -> float | None:
    """The speed (km/h) the access legs were computed with: the attach settings'
    column, else from ``snap_m / access_s``."""
    v = attach_settings(municipalities).get("access_speed_kmh")
    if v is not None:
        return float(v)
    if "snap_m" in municipalities.columns:
        snap = pd.to_numeric(municipalities["snap_m"], errors="coerce").to_numpy(float)
        acc = pd.to_numeric(municipalities["access_s"], errors="coerce").to_numpy(float)
        ok = np.isfinite(snap) & np.isfinite(acc) & (acc > 0) & (snap > 0)
        if ok.any():
            return float(np.median(snap[ok] / acc[ok]) * 3.6)
    return None


def _edge_exposed(m: pd.DataFrame, crs: str, margin: float | None
                  ) -> dict[str, np.ndarray] | None:
    """Per "nearest" kind: which municipalities have a central place of the class off
    the network that is nearer in straight line than ``margin`` times the nearest on
    the network (their time-nearest may lie beyond the extract). None when the table
    has no coordinates or central places, or ``margin`` is None."""
    if margin is None or not {"lon", "lat", "central_place"} <= set(m.columns):
        return None
    lon, lat = m["lon"].to_numpy(float), m["lat"].to_numpy(float)
    has = np.isfinite(lon) & np.isfinite(lat)
    x, y = project(np.nan_to_num(lon), np.nan_to_num(lat), crs)
    xy = np.column_stack([x, y])
    on = m["node"].to_numpy() >= 0
    out = {}
    for kind, cls in _FACILITY_CLASSES.items():
        is_fac = m["central_place"].isin(cls).to_numpy()
        exposed = np.zeros(len(m), bool)
        on_f, off_f = is_fac & on & has, is_fac & ~on & has
        if on_f.any() and off_f.any():
            d_on, _ = cKDTree(xy[on_f]).query(xy)
            d_off, _ = cKDTree(xy[off_f]).query(xy)
            exposed = has & (d_off < margin * d_on)
        out[kind] = exposed
    return out


@dataclass
class _Legs:
    """Trips to route: from an origin node to a destination node or a nearest OZ/MZ."""

    origin: np.ndarray        # origin node
    access_s: np.ndarray      # access seconds known beforehand (origin, explicit destination)
    dest: np.ndarray          # destination node, -1 for "nearest" legs
    kind: np.ndarray          # "" or NEAREST_OZ / NEAREST_MZ


@dataclass
class _Rows:
    """Reference values: each a weighted sum of legs (a trip: one leg of weight 1; a
    GVB mean: its non-central members' legs weighted by area share)."""

    rows: np.ndarray          # row labels of the reference table
    key: np.ndarray           # origin AGS or GVB key
    name: np.ndarray          # GVB name or ""
    destination: np.ndarray   # AGS, NEAREST_OZ or NEAREST_MZ
    ref_min: np.ndarray
    W: csr_array              # (rows, legs) weights

    def subset(self, keep: np.ndarray) -> _Rows:
        return _Rows(self.rows[keep], self.key[keep], self.name[keep], self.destination[keep],
                     self.ref_min[keep], self.W[np.flatnonzero(keep)])


def _legs_array(legs: list[tuple[int, float, int, str]]) -> _Legs:
    return _Legs(np.array([k[0] for k in legs], dtype=np.int64),
                 np.array([k[1] for k in legs], dtype=np.float64),
                 np.array([k[2] for k in legs], dtype=np.int64),
                 np.array([k[3] for k in legs], dtype=object))


def _check_nodes(m: pd.DataFrame, n_nodes: int) -> None:
    if len(m) and int(m["node"].max()) >= n_nodes:
        raise InputError(f"the municipality table has node indices beyond the graph's "
                         f"{n_nodes} nodes: was it snapped to another graph?")


def _resolve_pairs(m: pd.DataFrame, references: pd.DataFrame, n_nodes: int,
                   edge: dict[str, np.ndarray] | None
                   ) -> tuple[_Legs, _Rows, list[tuple[int, str]]]:
    """Match trip rows to graph nodes; list the rows that cannot be used."""
    for c in ("origin_ags", "destination", "minutes"):
        if c not in references.columns:
            raise InputError(f"the reference table needs columns origin_ags, destination, "
                             f"minutes (read it with read_reference_times); missing {c!r}")
    skipped: list[tuple[int, str]] = []
    keep = []
    node = m["node"].to_dict()
    access = m["access_s"].to_dict()
    cp = m["central_place"].to_dict() if "central_place" in m.columns else None
    _check_nodes(m, n_nodes)
    has_fac = {k: cp is not None and any(node[a] >= 0 and cp[a] in cls for a in cp)
               for k, cls in _FACILITY_CLASSES.items()}
    pos = {a: i for i, a in enumerate(m.index)}
    for row, o, d, t in zip(references.index, references["origin_ags"].astype("str"),
                            references["destination"].astype("str"), references["minutes"]):
        reason = None
        if o not in node:
            reason = f"origin {o} is not in the municipality table"
        elif node[o] < 0:
            reason = f"origin {o} is not on the network (not snapped)"
        elif not (np.isfinite(t) and t >= 0):
            reason = f"reference time {t!r} is not a number >= 0"
        elif d in _FACILITY_CLASSES:
            cls = _FACILITY_CLASSES[d]
            if cp is None:
                reason = f"{d}: the municipality table has no central_place column"
            elif cp[o] in cls:
                reason = f"origin {o} is itself a {cp[o]}: 0 minutes by definition"
            elif not has_fac[d]:
                reason = f"{d}: no {'/'.join(cls)} is on the network"
            elif edge is not None and edge[d][pos[o]]:
                reason = (f"{d} of origin {o}: an {_SHORT[d]} off the network is nearer in "
                          "straight line than any on it: the nearest may lie beyond the extract")
        elif d not in node:
            reason = f"destination {d} is not in the municipality table"
        elif node[d] < 0:
            reason = f"destination {d} is not on the network (not snapped)"
        elif d == o:
            reason = f"origin and destination are the same municipality {o}"
        if reason is None:
            keep.append((row, o, d, t))
        else:
            skipped.append((row, reason))
    near = [k[2] in _FACILITY_CLASSES for k in keep]
    legs = _legs_array([(node[k[1]], access[k[1]] + (0.0 if f else access[k[2]]),
                         -1 if f else node[k[2]], k[2] if f else "")
                        for k, f in zip(keep, near)])
    n = len(keep)
    rows = _Rows(np.array([k[0] for k in keep], dtype=np.int64),
                 np.array([k[1] for k in keep], dtype=object), np.full(n, "", dtype=object),
                 np.array([k[2] for k in keep], dtype=object),
                 np.array([float(k[3]) for k in keep], dtype=np.float64),
                 csr_array(identity(n, format="csr")))
    return legs, rows, skipped


def _resolve_gvbs(m: pd.DataFrame, references: pd.DataFrame, n_nodes: int,
                  edge: dict[str, np.ndarray] | None
                  ) -> tuple[_Legs, _Rows, list[tuple[int, str]]]:
    """Turn GVB means into weighted sums of member legs; list what cannot be used.

    A GVB counts only when every member is in the municipality table (``n_members``
    of them, when given) and on the network, and every member has an area. Its
    value for "nearest OZ" is ``sum_i a_i t_i / sum_i a_i`` over the members, with
    ``t_i = 0`` for a member that is itself an OZ.
    """
    if "gvb" not in references.columns:
        raise InputError("the GVB reference table needs a column gvb (read it with "
                         "read_reference_times)")
    ind_cols = [c for c in _INDICATORS if c in references.columns
                and references[c].notna().any()]
    if not ind_cols:
        raise InputError("the GVB reference table has no values in t_oz_min or t_mz_min")
    for col, what in (("gvb", "the Gemeindeverband key of each municipality"),
                      ("area_km2", "the area of each municipality (the GVB means are "
                                   "area-weighted)"),
                      ("central_place", "the central-place function")):
        if col not in m.columns:
            raise InputError(f"GVB reference times need column {col!r} in the municipality "
                             f"table: {what}. Read the municipalities with "
                             "read_municipalities and join the central places.")
    _check_nodes(m, n_nodes)
    members = m.groupby("gvb", sort=False).indices   # GVB -> row positions in m
    ags = m["ags"].to_numpy(dtype=object)
    node = m["node"].to_numpy(np.int64)
    area = m["area_km2"].to_numpy(np.float64)
    access = m["access_s"].to_numpy(np.float64)
    cp = m["central_place"].to_numpy(dtype=object)
    has_fac = {k: bool((np.isin(cp, cls) & (node >= 0)).any())
               for k, cls in _FACILITY_CLASSES.items()}
    gvbs = references["gvb"].astype(str).str.zfill(9).to_numpy()
    n_want = (pd.to_numeric(references["n_members"], errors="coerce").to_numpy(np.float64)
              if "n_members" in references.columns else np.full(len(references), np.nan))
    names = (references["name"].astype(str).where(references["name"].notna(), "").to_numpy()
             if "name" in references.columns else np.full(len(references), "", dtype=object))
    times = {c: pd.to_numeric(references[c], errors="coerce").to_numpy(np.float64)
             for c in ind_cols}
    skipped: list[tuple[int, str]] = []
    legs: list[tuple[int, float, int, str]] = []
    out_rows, out_key, out_name, out_dest, out_ref = [], [], [], [], []
    wr, wc, wv = [], [], []
    for i, row in enumerate(references.index):
        g = gvbs[i]
        label = f"GVB {g}" + (f" {names[i]}" if names[i] else "")
        idx = members.get(g)
        reason = None
        if idx is None:
            reason = f"{label}: no municipality of the table belongs to it"
        else:
            off = ags[idx[node[idx] < 0]].tolist()
            no_area = ags[idx[~(area[idx] > 0)]].tolist()
            if np.isfinite(n_want[i]) and idx.size != int(n_want[i]):
                reason = (f"{label}: {idx.size} of its {int(n_want[i])} members are in the "
                          "municipality table")
            elif len(off) == idx.size:
                reason = f"{label}: {_OUTSIDE}"
            elif off:
                reason = (f"{label}: members {show(off)} are not on the network (not "
                          "snapped): the GVB is not wholly inside the extract")
            elif no_area:
                reason = f"{label}: members {show(no_area)} have no area_km2"
        if reason is not None:
            skipped.append((int(row), reason))
            continue
        w = area[idx] / area[idx].sum()
        for col in ind_cols:
            kind = _INDICATORS[col]
            cls = _FACILITY_CLASSES[kind]
            t = times[col][i]
            reason = None
            if not np.isfinite(t):
                reason = f"{label}: no {col} value"
            elif not has_fac[kind]:
                reason = f"{label}: no {'/'.join(cls)} is on the network"
            elif edge is not None and edge[kind][idx].any():
                ex = ags[idx[edge[kind][idx]]].tolist()
                reason = (f"{label}, {col}: for members {show(ex)} an {_SHORT[kind]} off "
                          "the network is nearer in straight line than any on it: the "
                          "nearest may lie beyond the extract")
            if reason is not None:
                skipped.append((int(row), reason))
                continue
            r = len(out_rows)
            for j, wi in zip(idx, w):
                if cp[j] in cls:
                    continue   # itself a central place of the class: 0 minutes
                wr.append(r)
                wc.append(len(legs))
                wv.append(wi)
                legs.append((int(node[j]), float(access[j]), -1, kind))
            out_rows.append(int(row))
            out_key.append(g)
            out_name.append(names[i])
            out_dest.append(kind)
            out_ref.append(float(t))
    W = csr_array((np.array(wv, dtype=np.float64), (np.array(wr, dtype=np.int64),
                                                    np.array(wc, dtype=np.int64))),
                  shape=(len(out_rows), len(legs)))
    rows = _Rows(np.array(out_rows, dtype=np.int64), np.array(out_key, dtype=object),
                 np.array(out_name, dtype=object), np.array(out_dest, dtype=object),
                 np.array(out_ref, dtype=np.float64), W)
    return _legs_array(legs), rows, skipped


def _reference_format(references: pd.DataFrame) -> str:
    """The format of a reference table, from its columns (read_reference_times refuses
    a table with the columns of both)."""
    if {"origin_ags", "destination", "minutes"} <= set(references.columns):
        return "pairs"
    if "gvb" in references.columns and set(_INDICATORS) & set(references.columns):
        return "gvb"
    raise InputError(f"the reference table has neither the columns origin_ags, destination, "
                     f"minutes nor gvb, t_oz_min, t_mz_min (columns: "
                     f"{show(references.columns, 20)}); read it with read_reference_times")


def _resolve(graph: RoadGraph, m: pd.DataFrame, references: pd.DataFrame,
             edge_margin: float | None) -> tuple[str, _Legs, _Rows, list[tuple[int, str]]]:
    fmt = _reference_format(references)
    edge = _edge_exposed(m, graph.crs, edge_margin)
    if edge is None and edge_margin is not None:
        logger.info("the municipality table has no lon/lat or central_place: not checked "
                    "whether a central place beyond the extract is nearer")
    if fmt == "gvb":
        legs, rows, skipped = _resolve_gvbs(m, references, graph.n_nodes, edge)
    else:
        legs, rows, skipped = _resolve_pairs(m, references, graph.n_nodes, edge)
    return fmt, legs, rows, skipped
