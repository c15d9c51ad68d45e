import json, re, copy
DS = {"type": "prometheus", "uid": "${datasource}"}
R = 'run=~"$run"'

def ts(pid, title, grid, targets, desc, unit=None, extra=None):
    p = {"id": pid, "type": "timeseries", "title": title, "datasource": DS,
         "gridPos": dict(zip("hwxy", grid)),
         "fieldConfig": {"defaults": ({"unit": unit} if unit else {}), "overrides": []},
         "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l, "range": True, "instant": False} for i, (e, l) in enumerate(targets)],
         "description": desc,
         "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}, "tooltip": {"mode": "multi", "sort": "none"}}}
    if extra: p.update(extra)
    return p

def stat(pid, title, grid, expr, legend, desc):
    return {"id": pid, "type": "stat", "title": title, "datasource": DS, "gridPos": dict(zip("hwxy", grid)),
            "fieldConfig": {"defaults": {}, "overrides": []},
            "targets": [{"datasource": DS, "refId": "A", "expr": expr, "legendFormat": legend, "range": True, "instant": False}],
            "description": desc,
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "area", "textMode": "auto"}}

def table(pid, title, grid, targets, desc, rename, order):
    return {"id": pid, "type": "table", "title": title, "datasource": DS, "gridPos": dict(zip("hwxy", grid)),
            "fieldConfig": {"defaults": {}, "overrides": []},
            "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "format": "table", "range": False, "instant": True, "legendFormat": "__auto"} for i, e in enumerate(targets)],
            "description": desc,
            "transformations": [
                {"id": "merge", "options": {}},
                {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True}, "renameByName": rename, "indexByName": {k: i for i, k in enumerate(order)}}},
                {"id": "sortBy", "options": {"sort": [{"field": order[0]}]}}],
            "options": {"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": ""}}}

def var(name, label, query, multi=True):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
            "definition": query, "refresh": 2, "sort": 3, "multi": multi, "includeAll": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "options": [], "hide": 0, "regex": ""}

DS_VAR = {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
          "current": {"selected": False, "text": "${DS_PROMETHEUS}", "value": "${DS_PROMETHEUS}"},
          "options": [], "hide": 0, "refresh": 1, "regex": "", "includeAll": False, "multi": False,
          "description": "Prometheus scraping the polca metrics endpoint (provisioned: polca Prometheus, uid polca-prometheus)."}
RUN_VAR = var("run", "Run", 'label_values(polca_run_active, run)')
INPUTS = [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "Prometheus scraping polca's /metrics", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}]
REQUIRES = [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
            {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
            {"type": "panel", "id": "table", "name": "Table", "version": ""}]
BUILTIN_ANN = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}
ANN_BREAK = {"datasource": DS, "enable": True, "hide": False, "iconColor": "#F2495C", "name": "Breakthroughs",
             "expr": f'sum by (run, kind, basis, cluster) (increase(polca_transitions_total{{{R}, cluster!=""}}[$__rate_interval])) > 0',
             "step": "$__interval", "titleFormat": "Breakthrough: {{kind}} cluster {{cluster}} along basis vector {{basis}}",
             "textFormat": "run {{run}} (basis -1: the exact-loss clusters); the step is in the Breakthroughs table", "tagKeys": "run,kind,basis,cluster", "useValueForTime": False}
ANN_SETS = {"datasource": DS, "enable": True, "hide": False, "iconColor": "#B877D9", "name": "Datapoint-set breakthroughs",
            "expr": f'sum by (run, set) (increase(polca_transitions_total{{{R}, set!=""}}[$__rate_interval])) > 0',
            "step": "$__interval", "titleFormat": "Breakthrough of datapoint set {{set}}", "textFormat": "run {{run}}", "tagKeys": "run,set", "useValueForTime": False}
ANN_ALERTS = {"datasource": DS, "enable": True, "hide": False, "iconColor": "#FF9830", "name": "Tracker alerts",
              "expr": f'sum by (run, rule) (increase(polca_alerts_total{{{R}}}[$__rate_interval])) > 0',
              "step": "$__interval", "titleFormat": "Alert {{rule}}", "textFormat": "run {{run}}: {{rule}}", "tagKeys": "run,rule"}

def base(uid, title, desc, link_title, link_uid):
    return {"__inputs": INPUTS, "__requires": REQUIRES, "uid": uid, "title": title, "description": desc, "tags": ["polca"], "editable": True,
            "graphTooltip": 1, "refresh": "5s", "schemaVersion": 39, "version": 2, "timezone": "browser",
            "time": {"from": "now-30m", "to": "now"}, "timepicker": {}, "fiscalYearStartMonth": 0, "liveNow": False,
            "links": [{"title": link_title, "type": "link", "url": f"/d/{link_uid}", "icon": "dashboard", "tags": [], "asDropdown": False,
                       "includeVars": True, "keepTime": True, "targetBlank": False, "tooltip": ""}]}

C = f'{R}, kind=~"$kind", basis=~"$basis", cluster=~"$cluster"'
live = base("polca-live", "polca \u2014 live run",
            "One or more training runs as polca sees them: loss, basis growth, per-cluster projected-loss curves of every clustered trajectory kind, per-vector projections, and breakthroughs (annotations naming the kind, basis vector and cluster; a table by training step).",
            "Overview", "polca-overview")
live["annotations"] = {"list": [BUILTIN_ANN, ANN_BREAK]}
live["templating"] = {"list": [DS_VAR, RUN_VAR,
    var("kind", "Trajectory kind", f'label_values(polca_cluster_members{{{R}}}, kind)'),
    var("basis", "Basis vector", f'label_values(polca_cluster_members{{{R}, kind=~"$kind"}}, basis)'),
    var("cluster", "Cluster", f'label_values(polca_cluster_members{{{R}, kind=~"$kind", basis=~"$basis"}}, cluster)')]}
live["panels"] = [
    ts(1, "Training loss", (8, 12, 0, 0), [(f'polca_training_loss{{{R}}}', "{{run}} training loss"), (f'polca_probe_loss_mean{{{R}}}', "{{run}} mean probe loss")],
       "Loss reported at each step and mean probe loss at each POLCA checkpoint, against wall time. Red marks: breakthroughs (hover for kind, basis vector and cluster)."),
    ts(2, "Basis growth", (8, 6, 12, 0), [(f'polca_basis_size{{{R}}}', "{{run}} basis vectors")], "Number of basis vectors found so far.",
       extra={"fieldConfig": {"defaults": {"custom": {"drawStyle": "line", "lineInterpolation": "stepAfter"}}, "overrides": []}}),
    ts(3, "Eigenvalues", (8, 6, 18, 0), [(f'polca_basis_eigenvalue{{{R}}}', "{{run}} b{{basis}}")], "Ritz value of each basis vector (NaN for bases without one)."),
    ts(4, "Cluster projected-loss curves (median L_b(x,t))", (10, 16, 0, 8),
       [(f'polca_cluster_projected_loss_median{{{C}}}', "{{run}} {{kind}} b{{basis}} c{{cluster}}")],
       "Median over each cluster's members of the cumulative POLCA loss change along its basis vector (kinds polca and polca-first), updated at every POLCA interval; clusters are re-found as training runs, keeping their ids. A sudden drop is a (hidden) breakthrough."),
    ts(5, "Cluster sizes", (10, 8, 16, 8), [(f'polca_cluster_members{{{C}}}', "{{run}} {{kind}} b{{basis}} c{{cluster}}")],
       "Members of each cluster of the latest clustering (basis -1: clusters of the exact loss)."),
    ts(6, "Cluster exact loss (median)", (9, 12, 0, 18), [(f'polca_cluster_loss_median{{{C}}}', "{{run}} {{kind}} b{{basis}} c{{cluster}}")],
       "Median probe loss of each cluster's members at the last checkpoint: the loss the cluster's members actually have."),
    ts(7, "Projection per interval <b, \u0394\u03b8>", (9, 12, 12, 18), [(f'polca_basis_projection{{{R}, basis=~"$basis"}}', "{{run}} b{{basis}}")],
       "How far \u03b8 moved along each basis vector over the last live POLCA interval."),
    ts(8, "Mean projected loss of kept datapoints", (8, 12, 0, 27),
       [(f'polca_basis_projected_loss_mean{{{R}, basis=~"$basis"}}', "{{run}} b{{basis}}")],
       "Mean of L_b(x,t) over the datapoints whose loss along b has not risen (the ones the paper's procedure clusters)."),
    ts(9, "Datapoints kept per vector", (8, 12, 12, 27), [(f'polca_basis_kept_datapoints{{{R}, basis=~"$basis"}}', "{{run}} b{{basis}}")],
       "Datapoints with finite L_b(x,t) \u2264 0, kept for clustering."),
    table(10, "Breakthroughs by training step", (8, 12, 0, 35), [f'polca_transition_step{{{R}}}'],
          "Latest breakthrough of each cluster or datapoint set: the training step at which it happened (value), found live by the detector (eq. 6).",
          {"Value": "step", "kind": "kind", "basis": "basis vector", "cluster": "cluster"}, ["Value", "run", "kind", "basis", "cluster", "set"]),
    table(11, "Basis vectors by training step", (8, 12, 12, 35),
          [f'polca_basis_found_step{{{R}}}', f'polca_basis_eigenvalue{{{R}}}', f'polca_basis_projected_loss_mean{{{R}}}', f'polca_basis_kept_datapoints{{{R}}}'],
          "Each vector: the step it was found at, its eigenvalue, and its projected loss so far.",
          {"Value #A": "found at step", "Value #B": "eigenvalue", "Value #C": "mean projected loss (kept)", "Value #D": "kept datapoints"},
          ["Value #A", "run", "basis", "Value #B", "Value #C", "Value #D"]),
    ts(12, "POLCA seconds per checkpoint", (7, 6, 0, 43),
       [(f'rate(polca_checkpoint_duration_seconds_sum{{{R}}}[$__rate_interval]) / rate(polca_checkpoint_duration_seconds_count{{{R}}}[$__rate_interval])', "{{run}} mean seconds")],
       "Seconds polca spends per checkpoint.", unit="s"),
    ts(13, "Live clustering, share of wall time", (7, 6, 6, 43), [(f'rate(polca_clustering_seconds_total{{{R}}}[$__rate_interval])', "{{run}}")],
       "Seconds spent re-clustering per second of the run (the budget is 5% by default).", unit="percentunit"),
    stat(14, "Breakthroughs", (7, 4, 12, 43), f'sum by (run) (polca_transitions_total{{{R}}})', "{{run}}", "Breakthroughs detected so far."),
    stat(15, "Checkpoint step", (7, 4, 16, 43), f'polca_checkpoint_step{{{R}}}', "{{run}}", "Step of the last POLCA checkpoint."),
    ts(16, "Non-finite probe losses", (7, 4, 20, 43), [(f'polca_probe_nonfinite_losses{{{R}}}', "{{run}}")], "Probe datapoints with a non-finite loss at the last checkpoint."),
]
json.dump(live, open("dashboards/polca-live.json", "w"), indent=2, ensure_ascii=True)

ov = json.load(open("dashboards/polca-overview.json"))
new = base("polca-overview", ov["title"], ov["description"], "Live run", "polca-live")
ANN_ANY = {"datasource": DS, "enable": True, "hide": False, "iconColor": "#F2495C", "name": "Breakthroughs",
           "expr": f'sum by (run) (increase(polca_transitions_total{{{R}}}[$__rate_interval])) > 0',
           "step": "$__interval", "titleFormat": "Breakthrough(s) in run {{run}}", "textFormat": "clusters and datapoint sets: see polca-live", "tagKeys": "run", "useValueForTime": False}
new["annotations"] = {"list": [BUILTIN_ANN, ANN_ANY, ANN_SETS, ANN_ALERTS]}
new["templating"] = {"list": [DS_VAR, RUN_VAR]}
exprs = {
    1: [(f'polca_run_active{{{R}}}', None)], 2: [(f'polca_training_step{{{R}}}', None)],
    3: [(f'time() - polca_last_step_timestamp_seconds{{{R}}}', None)], 4: [(f'polca_basis_size{{{R}}}', None)],
    5: [(f'sum by (run) (polca_transitions_total{{{R}}})', None)], 6: [(f'polca_probe_nonfinite_losses{{{R}}}', None)],
    7: [(f'sum by (run, rule) (polca_alerts_total{{{R}}})', "{{run}} {{rule}}")],
    8: [(f'sum by (run, type) (rate(polca_events_total{{{R}}}[$__rate_interval]))', "{{run}} {{type}}")],
    9: [(f'histogram_quantile(0.9, sum by (run, le) (rate(polca_checkpoint_duration_seconds_bucket{{{R}}}[$__rate_interval])))', "{{run}} p90")],
    10: [(f'60 * rate(polca_checkpoints_total{{{R}}}[$__rate_interval])', "{{run}}")],
    11: [(f'polca_serve_subscribers{{{R}}}', "{{run}} subscribers"), (f'rate(polca_serve_lost_events_total{{{R}}}[$__rate_interval])', "{{run}} lost events/s"), (f'polca_serve_ingest_errors_total{{{R}}}', "{{run}} ingest errors")],
}
panels = []
for p in ov["panels"]:
    p = copy.deepcopy(p)
    p["datasource"] = DS
    es = exprs[p["id"]]
    assert len(es) == len(p["targets"]), p["title"]
    for t, (e, l) in zip(p["targets"], es):
        t["datasource"] = DS
        t["expr"] = e
        if l: t["legendFormat"] = l
    panels.append(p)
new["panels"] = panels
json.dump(new, open("dashboards/polca-overview.json", "w"), indent=2, ensure_ascii=True)
