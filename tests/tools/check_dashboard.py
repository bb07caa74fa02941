#!/usr/bin/env python3
"""Checks docs/grafana-dashboard.json against the metrics the daemons document.

    check_dashboard.py DASHBOARD.json DOC.md...

The dashboard must be JSON in the shape Grafana imports (a ${DS_PROMETHEUS} data source input
that every panel and query uses, unique panel ids, a 24-column grid), and every metric name in
its queries must be in a metric table of the DOCs (`| `name` | type | ...`; a histogram's
_bucket, _sum and _count included). rate() and increase() take counters and histogram series
only, histogram_quantile() a _bucket series. Exit 1 with one line per problem.
"""
import json
import re
import sys

ROW = re.compile(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram)\s*\|")
NAME = re.compile(r"\belastic_[a-z0-9_:]*")
RANGE_FN = re.compile(r"\b(rate|irate|increase)\(\s*([a-z_:][a-z0-9_:]*)")
QUANTILE = re.compile(r"histogram_quantile\([^,]+,.*?\b(elastic_[a-z0-9_:]*)", re.S)
DS_UID = "${DS_PROMETHEUS}"


def documented(paths):
    """{metric name: type} from the docs' tables; a histogram brings its three series."""
    types = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = ROW.match(line)
                if not m:
                    continue
                name, kind = m.groups()
                types[name] = kind
                if kind == "histogram":
                    for suffix in ("_bucket", "_sum", "_count"):
                        types[name + suffix] = "histogram series"
    return types


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])  # a collapsed row keeps its panels inside


def check_shape(dash, problems):
    inputs = [i for i in dash.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    if not inputs or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "prometheus":
        problems.append("no __inputs entry DS_PROMETHEUS (type datasource, pluginId prometheus)")
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        problems.append(f"schemaVersion {dash.get('schemaVersion')!r}: expected a number >= 36")
    for key in ("title", "uid"):
        if not dash.get(key):
            problems.append(f"no {key}")
    ids = [p.get("id") for p in panels_of(dash)]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"panel ids missing or not unique: {ids}")
    for p in panels_of(dash):
        title = p.get("title", "?")
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24:
            problems.append(f"panel '{title}': gridPos {g} outside the 24 columns")
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != DS_UID:
            problems.append(f"panel '{title}': data source is not {DS_UID}")
        targets = p.get("targets", [])
        if not targets:
            problems.append(f"panel '{title}': no queries")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            problems.append(f"panel '{title}': refIds not unique: {refs}")
        for t in targets:
            if t.get("datasource", {}).get("uid") != DS_UID:
                problems.append(f"panel '{title}' query {t.get('refId')}: data source is not {DS_UID}")
            if not t.get("expr", "").strip():
                problems.append(f"panel '{title}' query {t.get('refId')}: no expr")


def check_expr(title, expr, types, problems):
    if expr.count("(") != expr.count(")"):
        problems.append(f"panel '{title}': unbalanced parentheses in {expr!r}")
    for name in NAME.findall(expr):
        if name not in types:
            problems.append(f"panel '{title}': {name} is not in the docs' metric tables")
    for fn, name in RANGE_FN.findall(expr):
        if types.get(name) == "gauge" or types.get(name) == "histogram":
            problems.append(f"panel '{title}': {fn}() of {name}, a {types[name]}")
    for name in QUANTILE.findall(expr):
        if not name.endswith("_bucket"):
            problems.append(f"panel '{title}': histogram_quantile() of {name}, not a _bucket series")


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL: {argv[1]}: {e}")
        return 1
    types = documented(argv[2:])
    problems = []
    if not types:
        problems.append(f"no metric table found in {', '.join(argv[2:])}")
    check_shape(dash, problems)
    used = set()
    queries = 0
    for p in panels_of(dash):
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            queries += 1
            used.update(NAME.findall(expr))
            check_expr(p.get("title", "?"), expr, types, problems)
    for line in problems:
        print(f"FAIL: {line}")
    if problems:
        return 1
    print(f"ok: {argv[1]}: {sum(1 for _ in panels_of(dash))} panels, {queries} queries, "
          f"{len(used)} metric names, all in the docs' tables ({len(types)} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
