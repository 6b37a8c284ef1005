#!/usr/bin/env python3
"""The compose test's traffic and checks (scripts/compose-test.sh runs it; traffic goes to 127.0.0.1 only).

  compose-check.py seed GOALS              redis-cli commands that create the goals, sessions and escrows
                                           (Docs/redis-cli.md, "Creating a goal by hand"), on stdout
  compose-check.py drive PORT GOALS AT --kill-after N --kill CMD
                                           signed webhooks to the gateway on 127.0.0.1:PORT: every goal's
                                           channel occupied at AT - 450 s, then vacated at AT, in batches of
                                           20 events; CMD runs after N vacate batches
  compose-check.py inspect GOALS           the recipes' reads for every goal, session and escrow, on stdout
  compose-check.py verify GOALS AT ENDED   reads inspect's redis-cli output on stdin and checks it
  compose-check.py prometheus PORT TARGETS every target up, and every query of Docs/grafana-dashboard.json
  compose-check.py grafana                 the provisioning files against the dashboard and the compose file

Goals ct-001 … ct-<GOALS>: the first three quarters have target 360 and complete (450 s of presence), the rest
target 600 and stay active with progress 450; ENDED is one of those, ended by `goalctl goal end`.
Each check prints "ok" or "FAIL"; the exit status is the number of failures (at most 100).
"""
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_KEY, APP_SECRET = "local-key", "local-secret"
PRESENCE = 450
BATCH = 20
failures = 0


def check(condition, what):
    global failures
    if condition:
        print(f"  ok    {what}")
    else:
        failures += 1
        print(f"  FAIL  {what}")
    return condition


def goal_ids(count):
    return [f"ct-{i:03d}" for i in range(1, count + 1)]


def completes(index, count):
    """Whether the goal with 0-based `index` has target 360 (and so completes)."""
    return index < count * 3 // 4


def seed(count):
    for index, goal in enumerate(goal_ids(count)):
        target = 360 if completes(index, count) else 600
        viewer, session = f"viewer-{goal}", f"session-{goal}"
        print(f"HSET 'goal:{{{goal}}}' _cls ExclusiveGoal active 1 progress 0 level 0 levels.0.target {target} "
              f"breakdown_id '' conditions '{{}}' metadata '{{}}' exclusive_to {viewer} session_id {session}")
        print(f"HSET 'session:{{{session}}}' status.exclusive_to {viewer} exclusive_goal_pairs.{viewer}.goal_id {goal}")
        print(f"HSET 'escrow:{{{goal}}}' state held amount 500 payer {viewer} payee ''")


def post(port, body):
    data = json.dumps(body, separators=(",", ":")).encode()
    signature = hmac.new(APP_SECRET.encode(), data, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/notify/pusher", data=data, method="POST",
        headers={"Content-Type": "application/json", "X-Pusher-Key": APP_KEY, "X-Pusher-Signature": signature})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def drive(port, count, at, kill_after, kill_command):
    goals = goal_ids(count)
    batches = [goals[i:i + BATCH] for i in range(0, len(goals), BATCH)]
    for name, seconds in (("channel_occupied", at - PRESENCE), ("channel_vacated", at)):
        accepted = 0
        for number, batch in enumerate(batches, 1):
            events = [{"name": name, "channel": f"presence-enc-goal@{goal}", "user_id": f"viewer-{goal}"} for goal in batch]
            status, answer = post(port, {"time_ms": seconds * 1000, "events": events})
            accepted += answer.get("accepted", 0) if status == 200 else 0
            if name == "channel_vacated":
                if number == kill_after:
                    print(f"  ..    {number} of {len(batches)} vacate batches sent: {kill_command}", flush=True)
                    subprocess.run(kill_command, shell=True, check=True)
                time.sleep(0.3)
        check(accepted == count, f"{name}: the gateway accepted {accepted} of {count} events ({len(batches)} signed webhooks)")
        if name == "channel_occupied":
            time.sleep(1)  # the timers start before the vacates arrive, as on a real channel


def inspect(count):
    """The recipes of Docs/redis-cli.md, each read preceded by a PING that names it in the output."""
    for goal in goal_ids(count):
        for key in (f"goal:{{{goal}}}", f"session:{{session-{goal}}}", f"escrow:{{{goal}}}"):
            print(f"PING '=={key}'")
            print(f"HGETALL '{key}'")
    for stream in ("task:increment_goal_progress", "signal:goal.progressed", "signal:goal.completed",
                   "task:deactivate_goal", "signal:goal.ended", "outbox:pusher", "escrow:ledger",
                   "signal:channel_occupied", "signal:channel_vacated"):
        print(f"PING '==XLEN {stream}'")
        print(f"XLEN {stream}")
    print("PING '==tracking:counters'")
    print("HGETALL tracking:counters")
    print("PING '==refunds'")
    print("XRANGE escrow:ledger - +")


def read_sections(text):
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("=="):
            current = line[2:]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


def as_hash(lines):
    return dict(zip(lines[0::2], lines[1::2]))


def verify(count, at, ended):
    sections = read_sections(sys.stdin.read())
    goals = goal_ids(count)
    done = sum(completes(i, count) for i in range(count))
    started = at - PRESENCE
    bad = {"goal": [], "session": [], "escrow": []}
    for index, goal in enumerate(goals):
        viewer = f"viewer-{goal}"
        g = as_hash(sections.get(f"goal:{{{goal}}}", []))
        s = as_hash(sections.get(f"session:{{session-{goal}}}", []))
        e = as_hash(sections.get(f"escrow:{{{goal}}}", []))
        finished = completes(index, count)
        expected_goal = {"progress": str(PRESENCE), "context.started": str(started), "context.paused": str(at),
                         "level": "1" if finished else "0", "active": "0" if finished or goal == ended else "1"}
        if any(g.get(k) != v for k, v in expected_goal.items()):
            bad["goal"].append(f"{goal} {dict((k, g.get(k)) for k in expected_goal)}")
        if finished:
            expected_session = {f"exclusive_goal_pairs.{viewer}.exclusive_goal_ended": str(at),
                                f"viewers.{viewer}.duration": str(PRESENCE), f"viewers.{viewer}.exp": str(at),
                                "status.exclusive_to": None}
        elif goal == ended:
            expected_session = {"status.exclusive_to": None, f"viewers.{viewer}.duration": str(PRESENCE)}
        else:
            expected_session = {"status.exclusive_to": viewer, f"viewers.{viewer}.duration": None}
        if any(s.get(k) != v for k, v in expected_session.items()):
            bad["session"].append(f"{goal} {dict((k, s.get(k)) for k in expected_session)}")
        if e.get("state") != ("refunded" if goal == ended else "held"):
            bad["escrow"].append(f"{goal} state={e.get('state')}")
    for kind, wrong in bad.items():
        check(not wrong, f"every {kind} as expected ({count - len(wrong)} of {count})" + (f": {wrong[:3]}" if wrong else ""))

    def xlen(stream):
        lines = sections.get(f"XLEN {stream}", [])
        return int(lines[0]) if lines else -1
    for stream, expected in (("signal:channel_occupied", count), ("signal:channel_vacated", count),
                             ("task:increment_goal_progress", count), ("signal:goal.progressed", count),
                             ("signal:goal.completed", done), ("task:deactivate_goal", done + 1),
                             ("signal:goal.ended", done + 1), ("outbox:pusher", done + 1), ("escrow:ledger", 1)):
        check(xlen(stream) == expected, f"XLEN {stream} = {expected}: nothing lost, nothing doubled (got {xlen(stream)})")
    counters = as_hash(sections.get("tracking:counters", []))
    expected_counters = {"channel_occupied": count, "channel_vacated": count, "goal.progressed": count,
                         "goal.completed": done, "goal.ended": done + 1}
    check(all(int(counters.get(k, -1)) == v for k, v in expected_counters.items()),
          f"tracking:counters counted every signal once: {dict((k, counters.get(k)) for k in expected_counters)}")
    refunds = [line for line in sections.get("refunds", []) if line == ended]
    check(len(refunds) == 1, f"escrow:ledger holds one refund, of {ended}")


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def prometheus(port, expected_targets):
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        targets = get_json(f"{base}/api/v1/targets?state=active")["data"]["activeTargets"]
        up = [t for t in targets if t["health"] == "up"]
        if len(up) == expected_targets or time.monotonic() > deadline:
            break
        time.sleep(2)
    by_service = {}
    for target in up:
        by_service[target["labels"].get("service", "?")] = by_service.get(target["labels"].get("service", "?"), 0) + 1
    check(len(up) == expected_targets and len(targets) == expected_targets,
          f"Prometheus scrapes {len(up)} of {len(targets)} targets up, {expected_targets} expected: {dict(sorted(by_service.items()))}")

    dashboard = json.loads((ROOT / "Docs/grafana-dashboard.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", []) if t.get("expr")]
    substitutions = {"$__rate_interval": "1m", "$__range": "15m", "$group": ".*", "$stream": ".*"}
    empty = []
    for expr in queries:
        query = expr
        for variable, value in substitutions.items():
            query = query.replace(variable, value)
        # A series shows in a rate once two scrapes saw it: allow the scrapes after the traffic 30 s.
        deadline = time.monotonic() + 30
        while True:
            answer = get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
            ok = answer.get("status") == "success"
            if not ok or answer["data"]["result"] or "bus_messages_total" in expr or time.monotonic() > deadline:
                break
            time.sleep(2)
        if ok and not answer["data"]["result"]:
            empty.append(expr)
        # The bus's failure counters exist only once something failed; every other series must have data.
        check(ok and (answer["data"]["result"] or "bus_messages_total" in expr), f"dashboard query answers: {expr}")
    if empty:
        print(f"  ..    no series yet (nothing of the kind happened): {len(empty)} quer{'y' if len(empty) == 1 else 'ies'}")
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
        selector = match.group(1).replace('"$group"', '".*"') if match else ""
        values = get_json(f"{base}/api/v1/label/{match.group(2)}/values?" + urllib.parse.urlencode({"match[]": selector}))["data"] if match else []
        wanted = {"karaoke", "goals", "sessions", "escrow", "tracking"} if variable["name"] == "group" else set()
        check(bool(values) and wanted <= set(values), f"dashboard variable ${variable['name']} lists {values}")


def grafana():
    import yaml  # PyYAML: pip install pyyaml, or apt-get install python3-yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = dict(reversed(m.rsplit(":", 2)[:2]) for m in compose["services"]["grafana"]["volumes"])
    sources = yaml.safe_load((ROOT / "Docs/observability/grafana/datasources.yml").read_text())["datasources"]
    providers = yaml.safe_load((ROOT / "Docs/observability/grafana/dashboards.yml").read_text())["providers"]
    prometheus_sources = [s for s in sources if s["type"] == "prometheus"]
    check(len(prometheus_sources) == 1 and prometheus_sources[0]["url"] == "http://prometheus:9090"
          and prometheus_sources[0].get("isDefault"), "Grafana's data source is the stack's Prometheus, by default")
    path = providers[0]["options"]["path"]
    dashboard_mount = mounts.get(f"{path}/goal-signals.json")
    check(dashboard_mount == "./Docs/grafana-dashboard.json", f"the dashboard provider reads {path}, where compose mounts the dashboard")
    for name in ("datasources", "dashboards"):
        target = f"/etc/grafana/provisioning/{name}/goal-signals.yml"
        check(mounts.get(target) == f"./Docs/observability/grafana/{name}.yml", f"compose mounts the {name} provisioning at {target}")
    dashboard = json.loads((ROOT / "Docs/grafana-dashboard.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    uids = {t.get("datasource", {}).get("uid") for p in dashboard["panels"] for t in p.get("targets", [])} - {None}
    check(uids == {"${DS_PROMETHEUS}"} and variables.get("DS_PROMETHEUS", {}).get("query") == "prometheus",
          "every dashboard query uses the DS_PROMETHEUS variable, which picks the provisioned Prometheus")


def main():
    import argparse

    parser = argparse.ArgumentParser(description="The compose test's traffic and checks (see the top of this file).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed").add_argument("goals", type=int)
    drive_parser = commands.add_parser("drive")
    for name in ("port", "goals", "at"):
        drive_parser.add_argument(name, type=int)
    drive_parser.add_argument("--kill-after", type=int, required=True, help="vacate batches sent before CMD runs")
    drive_parser.add_argument("--kill", required=True, metavar="CMD", help="shell command that kills a replica")
    commands.add_parser("inspect").add_argument("goals", type=int)
    verify_parser = commands.add_parser("verify")
    verify_parser.add_argument("goals", type=int)
    verify_parser.add_argument("at", type=int)
    verify_parser.add_argument("ended")
    prometheus_parser = commands.add_parser("prometheus")
    prometheus_parser.add_argument("port", type=int)
    prometheus_parser.add_argument("targets", type=int)
    commands.add_parser("grafana")
    args = parser.parse_args()

    if args.command == "seed":
        seed(args.goals)
    elif args.command == "drive":
        drive(args.port, args.goals, args.at, args.kill_after, args.kill)
    elif args.command == "inspect":
        inspect(args.goals)
    elif args.command == "verify":
        verify(args.goals, args.at, args.ended)
    elif args.command == "prometheus":
        prometheus(args.port, args.targets)
    else:
        grafana()
    sys.exit(min(failures, 100))


if __name__ == "__main__":
    main()
