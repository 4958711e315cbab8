#!/usr/bin/python3
"""Writes the Grafana dashboards in two flavours from one description, so both ask for the same things.

    /usr/bin/python3 deploy/grafana/make_dashboards.py

dashboards/victoriametrics/*.json use PromQL (VictoriaMetrics names a field MEASUREMENT_FIELD and keeps tags as labels);
dashboards/influxdb/*.json use Flux against InfluxDB 2. The names are the history writer's (src/StillControl/History/
LineProtocol.cs): measurements stillcontrol_sample and stillcontrol_event, tags site, still, batch, phase (events also kind
and code). A test checks every name used here against what a simulated batch wrote.
"""
import json
import os

SAMPLE = "stillcontrol_sample"
EVENT = "stillcontrol_event"
BUCKET = "stillcontrol"
HERE = os.path.dirname(os.path.abspath(__file__))

TEMPERATURES = ["steam_celsius", "vapour_celsius", "bed_surface_celsius", "cooling_in_celsius", "cooling_out_celsius", "distillate_celsius"]
VALVES = ["steam_valve_percent", "cooling_valve_percent"]
PRESSURE = ["steam_pressure_kilopascals"]
FLOWS = ["distillate_flow_litres_per_minute", "cooling_flow_litres_per_minute"]
STRENGTH = ["strength_percent_volume"]


def promql_fields(fields, still=True):
    sel = 'site="$site",still="$still"' if still else 'site="$site"'
    return [{"expr": f'{SAMPLE}_{f}{{{sel}}}', "legendFormat": f.replace("_", " "), "refId": chr(65 + i)} for i, f in enumerate(fields)]


def flux_fields(fields):
    cond = " or ".join(f'r._field == "{f}"' for f in fields)
    q = (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
         f'  |> filter(fn: (r) => r._measurement == "{SAMPLE}" and r.site == "${{site}}" and r.still == "${{still}}")\n'
         f'  |> filter(fn: (r) => {cond})\n'
         f'  |> drop(columns: ["batch", "phase"])\n'
         f'  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)')
    return [{"query": q, "refId": "A"}]


def timeseries(title, unit, pos, targets, datasource):
    return {"type": "timeseries", "title": title, "gridPos": pos, "datasource": datasource,
            "fieldConfig": {"defaults": {"unit": unit, "custom": {"spanNulls": False}}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}}, "targets": targets}


def phase_panel(title, pos, target, datasource, by_still=False):
    return {"type": "stat" if not by_still else "table", "title": title, "gridPos": pos, "datasource": datasource,
            "options": {"textMode": "name", "colorMode": "background", "reduceOptions": {"calcs": ["lastNotNull"]}},
            "fieldConfig": {"defaults": {"displayName": "${__field.labels.phase}",
                                         "mappings": [{"type": "value", "options": {"0": {"text": "running", "color": "green"}, "1": {"text": "held", "color": "red"}}}],
                                         "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}]}},
                            "overrides": []},
            "targets": [target]}


def variables(flavour, datasource, with_still):
    out = []
    names = ["site", "still"] if with_still else ["site"]
    for name in names:
        if flavour == "victoriametrics":
            query = f'label_values({SAMPLE}_held, {name})' if name == "site" else f'label_values({SAMPLE}_held{{site="$site"}}, {name})'
        else:
            query = (f'import "influxdata/influxdb/schema"\nschema.tagValues(bucket: "{BUCKET}", tag: "{name}", predicate: (r) => r._measurement == "{SAMPLE}"'
                     + (' and r.site == "${site}"' if name == "still" else "") + ', start: -30d)')
        out.append({"name": name, "type": "query", "datasource": datasource, "query": query, "definition": query, "refresh": 2, "includeAll": False})
    return {"list": out}


def still_dashboard(flavour):
    ds = {"type": "prometheus" if flavour == "victoriametrics" else "influxdb", "uid": "stillcontrol-" + flavour}
    if flavour == "victoriametrics":
        ts = lambda fields: promql_fields(fields)
        phase = {"expr": f'max by (phase) (last_over_time({SAMPLE}_held{{site="$site",still="$still"}}[1m]))', "legendFormat": "{{phase}}", "refId": "A", "instant": True}
        alarms = [{"expr": f'sum by (code) (increase({EVENT}_count{{site="$site",still="$still",kind="alarm-raised"}}[$__range]))', "legendFormat": "{{code}}", "refId": "A", "instant": True},
                  {"expr": f'sum by (code) (increase({EVENT}_count{{site="$site",still="$still",kind="interlock-trip"}}[$__range]))', "legendFormat": "trip {{code}}", "refId": "B", "instant": True}]
    else:
        ts = flux_fields
        phase = {"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: -5m)\n  |> filter(fn: (r) => r._measurement == "{SAMPLE}" and r._field == "held" and r.site == "${{site}}" and r.still == "${{still}}")\n'
                           '  |> group()\n  |> last()\n  |> keep(columns: ["_time", "_value", "phase"])'), "refId": "A"}
        alarms = [{"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
                             f'  |> filter(fn: (r) => r._measurement == "{EVENT}" and r._field == "count" and r.site == "${{site}}" and r.still == "${{still}}" and (r.kind == "alarm-raised" or r.kind == "interlock-trip"))\n'
                             '  |> group(columns: ["kind", "code"])\n  |> sum()'), "refId": "A"}]
    panels = [
        phase_panel("Phase (red: held)", {"x": 0, "y": 0, "w": 8, "h": 4}, phase, ds),
        {"type": "table", "title": "Alarms and trips in range", "gridPos": {"x": 8, "y": 0, "w": 16, "h": 4}, "datasource": ds, "targets": alarms,
         "options": {"showHeader": True}},
        timeseries("Temperatures", "celsius", {"x": 0, "y": 4, "w": 24, "h": 9}, ts(TEMPERATURES), ds),
        timeseries("Steam and cooling valves", "percent", {"x": 0, "y": 13, "w": 12, "h": 8}, ts(VALVES), ds),
        timeseries("Steam pressure", "kPa", {"x": 12, "y": 13, "w": 12, "h": 8}, ts(PRESSURE), ds),
        timeseries("Distillate strength (% vol)", "percent", {"x": 0, "y": 21, "w": 12, "h": 8}, ts(STRENGTH), ds),
        timeseries("Flows (L/min)", "short", {"x": 12, "y": 21, "w": 12, "h": 8}, ts(FLOWS), ds),
    ]
    return {"uid": f"stillcontrol-still-{flavour}", "title": f"StillControl: one still ({'VictoriaMetrics' if flavour == 'victoriametrics' else 'InfluxDB'})",
            "tags": ["stillcontrol"], "timezone": "browser", "schemaVersion": 39, "version": 1, "refresh": "10s",
            "time": {"from": "now-3h", "to": "now"}, "templating": variables(flavour, ds, True), "panels": panels}


def plant_dashboard(flavour):
    ds = {"type": "prometheus" if flavour == "victoriametrics" else "influxdb", "uid": "stillcontrol-" + flavour}
    if flavour == "victoriametrics":
        phases = {"expr": f'max by (still, phase) (last_over_time({SAMPLE}_held{{site="$site"}}[1m]))', "legendFormat": "{{still}}: {{phase}}", "refId": "A", "instant": True}
        trips = [{"expr": f'sum by (still) (increase({EVENT}_count{{site="$site",kind="interlock-trip"}}[$__range]))', "legendFormat": "{{still}}", "refId": "A", "instant": True}]
        alarms = [{"expr": f'sum by (still, code) (increase({EVENT}_count{{site="$site",kind="alarm-raised"}}[$__range]))', "legendFormat": "{{still}} {{code}}", "refId": "A", "instant": True}]
        vapour = [{"expr": f'{SAMPLE}_vapour_celsius{{site="$site"}}', "legendFormat": "{{still}}", "refId": "A"}]
        distillate = [{"expr": f'{SAMPLE}_distillate_celsius{{site="$site"}}', "legendFormat": "{{still}}", "refId": "A"}]
    else:
        phases = {"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: -5m)\n  |> filter(fn: (r) => r._measurement == "{SAMPLE}" and r._field == "held" and r.site == "${{site}}")\n'
                            '  |> group(columns: ["still"])\n  |> last()\n  |> keep(columns: ["still", "phase", "_value"])'), "refId": "A"}
        def events(kind, cols):
            return [{"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
                               f'  |> filter(fn: (r) => r._measurement == "{EVENT}" and r._field == "count" and r.site == "${{site}}" and r.kind == "{kind}")\n'
                               f'  |> group(columns: {json.dumps(cols)})\n  |> sum()'), "refId": "A"}]
        trips = events("interlock-trip", ["still"])
        alarms = events("alarm-raised", ["still", "code"])
        def by_still(field):
            return [{"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
                               f'  |> filter(fn: (r) => r._measurement == "{SAMPLE}" and r._field == "{field}" and r.site == "${{site}}")\n'
                               '  |> group(columns: ["still"])\n  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)'), "refId": "A"}]
        vapour = by_still("vapour_celsius")
        distillate = by_still("distillate_celsius")
    panels = [
        phase_panel("Every still: phase (red: held)", {"x": 0, "y": 0, "w": 24, "h": 5}, phases, ds),
        {"type": "stat", "title": "Interlock trips in range", "gridPos": {"x": 0, "y": 5, "w": 8, "h": 6}, "datasource": ds, "targets": trips,
         "fieldConfig": {"defaults": {"thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}]}}, "overrides": []}},
        {"type": "table", "title": "Alarms in range", "gridPos": {"x": 8, "y": 5, "w": 16, "h": 6}, "datasource": ds, "targets": alarms},
        timeseries("Still-head vapour", "celsius", {"x": 0, "y": 11, "w": 12, "h": 8}, vapour, ds),
        timeseries("Distillate outlet", "celsius", {"x": 12, "y": 11, "w": 12, "h": 8}, distillate, ds),
    ]
    return {"uid": f"stillcontrol-plant-{flavour}", "title": f"StillControl: plant ({'VictoriaMetrics' if flavour == 'victoriametrics' else 'InfluxDB'})",
            "tags": ["stillcontrol"], "timezone": "browser", "schemaVersion": 39, "version": 1, "refresh": "10s",
            "time": {"from": "now-12h", "to": "now"}, "templating": variables(flavour, ds, False), "panels": panels}


def main():
    for flavour in ["victoriametrics", "influxdb"]:
        folder = os.path.join(HERE, "dashboards", flavour)
        os.makedirs(folder, exist_ok=True)
        for name, make in [("still", still_dashboard), ("plant", plant_dashboard)]:
            with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as f:
                json.dump(make(flavour), f, indent=2, ensure_ascii=False)
                f.write("\n")


if __name__ == "__main__":
    main()
