#!/usr/bin/python3
"""Writes the Grafana dashboards in two flavours from one description, so both ask for the same things.

    /usr/bin/python3 deploy/grafana/make_dashboards.py

dashboards/victoriametrics/*.json use PromQL (VictoriaMetrics names a field MEASUREMENT_FIELD and keeps tags as labels);
dashboards/influxdb/*.json use Flux against InfluxDB 2 (organisation and bucket both "stillcontrol", the history writer's
defaults). The names are the history writer's (src/StillControl/History/LineProtocol.cs): measurements stillcontrol_sample
and stillcontrol_event, tags site, still, batch, phase (events also kind and code).

Every point carries its batch and phase as tags, so a raw query gives one series per batch and phase: every time-series
panel aggregates them away (one series per still and channel, with a fixed colour per channel). The batch selector
(variable "batch", "All" by default) narrows the panels to one batch; phase changes and alarms are annotations.
A test (tests/StillControl.Tests/History/DashboardTests.cs) runs every PromQL query against what a simulated batch wrote
to VictoriaMetrics, checks every Flux query by name, and fails when a panel still splits its series by batch or phase.
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


# One colour per channel, the same as the HTML report's charts (src/StillControl/Reports/Charts.cs).
COLOURS = {"steam_celsius": "#c0392b", "vapour_celsius": "#8e44ad", "bed_surface_celsius": "#7f8c8d", "cooling_in_celsius": "#2980b9",
           "cooling_out_celsius": "#16a085", "distillate_celsius": "#d35400", "steam_valve_percent": "#c0392b", "cooling_valve_percent": "#2980b9",
           "steam_pressure_kilopascals": "#2c3e50", "distillate_flow_litres_per_minute": "#d35400", "cooling_flow_litres_per_minute": "#16a085",
           "strength_percent_volume": "#8e44ad"}

# Samples of the chosen batch, or of every batch ("All"): the batch variable's "All" value is ".*" in PromQL and "all" in Flux.
PROM_SAMPLE = 'site="$site",still="$still",batch=~"$batch"'
FLUX_BATCH = '("${batch}" == "all" or r.batch == "${batch}")'


def legend(field):
    return field.replace("_celsius", " °C").replace("_percent_volume", " % vol").replace("_percent", " %").replace("_kilopascals", " kPa") \
        .replace("_litres_per_minute", " L/min").replace("_", " ")


def promql_fields(fields):
    # max by (still): one series per still and channel, whatever batches and phases the range holds.
    return [{"expr": f'max by (still) ({SAMPLE}_{f}{{{PROM_SAMPLE}}})', "legendFormat": legend(f), "refId": chr(65 + i)} for i, f in enumerate(fields)]


def flux_fields(fields):
    out = []
    for i, f in enumerate(fields):
        q = (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
             f'  |> filter(fn: (r) => r._measurement == "{SAMPLE}" and r._field == "{f}" and r.site == "${{site}}" and r.still == "${{still}}" and {FLUX_BATCH})\n'
             f'  |> group(columns: ["_measurement", "_field", "site", "still"])\n'
             f'  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)')
        out.append({"query": q, "refId": chr(65 + i)})
    return out


def timeseries(title, unit, pos, targets, datasource, fields=None):
    # Fixed name and colour per query (refId), so a channel keeps its colour in both flavours and from batch to batch.
    overrides = [{"matcher": {"id": "byFrameRefID", "options": chr(65 + i)},
                  "properties": [{"id": "displayName", "value": legend(f)}, {"id": "color", "value": {"mode": "fixed", "fixedColor": COLOURS[f]}}]}
                 for i, f in enumerate(fields or [])]
    return {"type": "timeseries", "title": title, "gridPos": pos, "datasource": datasource,
            "fieldConfig": {"defaults": {"unit": unit, "custom": {"spanNulls": False}}, "overrides": overrides},
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
    names = ["site", "still", "batch"] if with_still else ["site"]
    for name in names:
        if flavour == "victoriametrics":
            query = {"site": f'label_values({SAMPLE}_held, site)',
                     "still": f'label_values({SAMPLE}_held{{site="$site"}}, still)',
                     "batch": f'label_values({SAMPLE}_held{{site="$site",still="$still",batch!="none"}}, batch)'}[name]
        else:
            predicate = {"site": "", "still": ' and r.site == "${site}"', "batch": ' and r.site == "${site}" and r.still == "${still}" and r.batch != "none"'}[name]
            query = (f'import "influxdata/influxdb/schema"\nschema.tagValues(bucket: "{BUCKET}", tag: "{name}", predicate: (r) => r._measurement == "{SAMPLE}"'
                     + predicate + ', start: -30d)')
        variable = {"name": name, "type": "query", "datasource": datasource, "query": query, "definition": query, "refresh": 2, "includeAll": False}
        if name == "batch":
            # Newest batch first (ids carry the start time); "All" shows every batch in the time range.
            variable.update({"label": "batch", "includeAll": True, "allValue": ".*" if flavour == "victoriametrics" else "all", "sort": 2,
                             "current": {"text": "All", "value": "$__all"}})
        out.append(variable)
    return {"list": out}


def annotations(flavour, datasource, with_still):
    """Phase changes (green) and alarms and trips (red) as annotations on every time-series panel."""
    grafana = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
               "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}
    out = [grafana]
    for name, colour, kinds in [("Phase changes", "#27ae60", ["phase-changed"]), ("Alarms and trips", "#e74c3c", ["alarm-raised", "interlock-trip"])]:
        if flavour == "victoriametrics":
            sel = ('site="$site",still="$still",batch=~"$batch"' if with_still else 'site="$site"') + f',kind=~"{"|".join(kinds)}"'
            expr = f'max by (still, kind, code) ({EVENT}_count{{{sel}}})'
            title = "{{still}}: {{code}}"
            out.append({"name": name, "datasource": datasource, "enable": True, "iconColor": colour, "expr": expr, "step": "10s",
                        "titleFormat": title, "textFormat": "{{kind}}", "tagKeys": "still,kind,code", "useValueForTime": False,
                        "target": {"expr": expr, "refId": "Anno", "legendFormat": title}})
        else:
            cond = " or ".join(f'r.kind == "{k}"' for k in kinds)
            where = 'r.site == "${site}" and r.still == "${still}" and ' + FLUX_BATCH if with_still else 'r.site == "${site}"'
            query = (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
                     f'  |> filter(fn: (r) => r._measurement == "{EVENT}" and r._field == "message" and {where} and ({cond}))\n'
                     '  |> group()\n  |> keep(columns: ["_time", "_value", "still", "kind", "code"])')
            out.append({"name": name, "datasource": datasource, "enable": True, "iconColor": colour, "target": {"query": query, "refId": "Anno"}})
    return {"list": out}


def still_dashboard(flavour):
    ds = {"type": "prometheus" if flavour == "victoriametrics" else "influxdb", "uid": "stillcontrol-" + flavour}
    if flavour == "victoriametrics":
        ts = promql_fields
        # The phase now: the one query that keeps the phase label, because the phase's name is what it shows.
        phase = {"expr": f'max by (phase) (last_over_time({SAMPLE}_held{{site="$site",still="$still"}}[1m]))', "legendFormat": "{{phase}}", "refId": "A", "instant": True}
        alarms = [{"expr": f'sum by (code) (increase({EVENT}_count{{site="$site",still="$still",batch=~"$batch",kind="alarm-raised"}}[$__range]))', "legendFormat": "{{code}}", "refId": "A", "instant": True},
                  {"expr": f'sum by (code) (increase({EVENT}_count{{site="$site",still="$still",batch=~"$batch",kind="interlock-trip"}}[$__range]))', "legendFormat": "trip {{code}}", "refId": "B", "instant": True}]
    else:
        ts = flux_fields
        phase = {"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: -5m)\n  |> filter(fn: (r) => r._measurement == "{SAMPLE}" and r._field == "held" and r.site == "${{site}}" and r.still == "${{still}}")\n'
                           '  |> group()\n  |> last()\n  |> keep(columns: ["_time", "_value", "phase"])'), "refId": "A"}
        alarms = [{"query": (f'from(bucket: "{BUCKET}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
                             f'  |> filter(fn: (r) => r._measurement == "{EVENT}" and r._field == "count" and r.site == "${{site}}" and r.still == "${{still}}" and {FLUX_BATCH} and (r.kind == "alarm-raised" or r.kind == "interlock-trip"))\n'
                             '  |> group(columns: ["kind", "code"])\n  |> sum()'), "refId": "A"}]
    panels = [
        phase_panel("Phase (red: held)", {"x": 0, "y": 0, "w": 8, "h": 4}, phase, ds),
        {"type": "table", "title": "Alarms and trips in range", "gridPos": {"x": 8, "y": 0, "w": 16, "h": 4}, "datasource": ds, "targets": alarms,
         "options": {"showHeader": True}},
        timeseries("Temperatures", "celsius", {"x": 0, "y": 4, "w": 24, "h": 9}, ts(TEMPERATURES), ds, TEMPERATURES),
        timeseries("Steam and cooling valves", "percent", {"x": 0, "y": 13, "w": 12, "h": 8}, ts(VALVES), ds, VALVES),
        timeseries("Steam pressure", "kPa", {"x": 12, "y": 13, "w": 12, "h": 8}, ts(PRESSURE), ds, PRESSURE),
        timeseries("Distillate strength (% vol)", "percent", {"x": 0, "y": 21, "w": 12, "h": 8}, ts(STRENGTH), ds, STRENGTH),
        timeseries("Flows (L/min)", "short", {"x": 12, "y": 21, "w": 12, "h": 8}, ts(FLOWS), ds, FLOWS),
    ]
    return {"uid": f"stillcontrol-still-{flavour}", "title": f"StillControl: one still ({'VictoriaMetrics' if flavour == 'victoriametrics' else 'InfluxDB'})",
            "tags": ["stillcontrol"], "timezone": "browser", "schemaVersion": 39, "version": 1, "refresh": "10s",
            "time": {"from": "now-3h", "to": "now"}, "templating": variables(flavour, ds, True), "annotations": annotations(flavour, ds, True), "panels": panels}


def plant_dashboard(flavour):
    ds = {"type": "prometheus" if flavour == "victoriametrics" else "influxdb", "uid": "stillcontrol-" + flavour}
    if flavour == "victoriametrics":
        phases = {"expr": f'max by (still, phase) (last_over_time({SAMPLE}_held{{site="$site"}}[1m]))', "legendFormat": "{{still}}: {{phase}}", "refId": "A", "instant": True}
        trips = [{"expr": f'sum by (still) (increase({EVENT}_count{{site="$site",kind="interlock-trip"}}[$__range]))', "legendFormat": "{{still}}", "refId": "A", "instant": True}]
        alarms = [{"expr": f'sum by (still, code) (increase({EVENT}_count{{site="$site",kind="alarm-raised"}}[$__range]))', "legendFormat": "{{still}} {{code}}", "refId": "A", "instant": True}]
        vapour = [{"expr": f'max by (still) ({SAMPLE}_vapour_celsius{{site="$site"}})', "legendFormat": "{{still}}", "refId": "A"}]
        distillate = [{"expr": f'max by (still) ({SAMPLE}_distillate_celsius{{site="$site"}})', "legendFormat": "{{still}}", "refId": "A"}]
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
                               '  |> group(columns: ["_measurement", "_field", "site", "still"])\n  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)'), "refId": "A"}]
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
            "time": {"from": "now-12h", "to": "now"}, "templating": variables(flavour, ds, False), "annotations": annotations(flavour, ds, False), "panels": panels}


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
