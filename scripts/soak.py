#!/usr/bin/env python3
"""Soak: a constant load of complete goal chains through the real stack, with memory sampled.

Starts its own redis-server and the six services from BIN_DIR on free loopback ports, then for
--seconds drives --rate chains per second over a pool of --goals goals (each cycle resets a goal, sends a
signed occupy and a vacate 400 s later in event time, so every chain completes). Every --every seconds it
prints the resident memory of each service, Redis's used memory and key count, and the chains completed.
At the end it checks that every chain completed exactly once and reports memory growth over the second half
of the run, in MiB and in percent. Exit status 1 when a chain was lost or doubled.

The services run with the shipped docker settings (Config/docker.json: bus.stream.keep 10,000, trace.sample
0.01, trace.seconds 3,600), on loopback. Nothing is kept per delivered message, so Redis memory levels off
once the streams hold their bus.stream.keep entries and the webhooks' retry keys their webhook.dedup.seconds
(600 s here, the minimum): over the second half of a 20-minute run only the sampled traces still grow.
"""
import argparse, hashlib, hmac, json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

KEY, SECRET = "soak-key", "soak-secret"
SERVICES = ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def post(port, name, goals, at):
    events = [{"name": name, "channel": f"presence-enc-goal@{g}", "user_id": f"v-{g}"} for g in goals]
    body = json.dumps({"time_ms": at * 1000, "events": events}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/notify/pusher", data=body, headers={
        "X-Pusher-Key": KEY, "X-Pusher-Signature": signature, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 200:
            raise SystemExit(f"soak: webhook answered {answer.status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bin_dir")
    parser.add_argument("--seconds", type=int, default=1200)
    parser.add_argument("--rate", type=int, default=20, help="chains per second")
    parser.add_argument("--goals", type=int, default=400)
    parser.add_argument("--every", type=int, default=30, help="seconds between samples")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="goal-signals-soak-")
    redis_port, http_port = free_port(), free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    cli = ["redis-cli", "-p", str(redis_port)]
    # The docker settings, but on loopback and without the metrics listeners (one port for all of them there).
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", HTTP_HOST="127.0.0.1", HTTP_PORT=str(http_port),
               METRICS_PORT="", PUSHER_APP_KEY=KEY, PUSHER_APP_SECRET=SECRET, LOG_LEVEL="warning",
               CONFIG_FILE="Config/docker.json", WEBHOOK_DEDUP_SECONDS="600")
    env.pop("PUSHER_APP_ID", None)
    services = {name: subprocess.Popen([os.path.join(args.bin_dir, name)], env=env,
                                       stdout=open(os.path.join(work, f"{name}.log"), "w"), stderr=subprocess.STDOUT)
                for name in SERVICES}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/ready", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        print(f"soak: {args.rate} chains/s over {args.goals} goals for {args.seconds} s; logs in {work}")
        print(f"{'t(s)':>5} {'chains':>7} " + " ".join(f"{s[:8]:>8}" for s in SERVICES) + f" {'redis':>8} {'keys':>7}   (RSS and Redis memory in MiB)")
        issued, cursor, samples = 0, 0, []
        start = time.time()
        next_sample = start
        while time.time() - start < args.seconds:
            tick = time.time()
            goals = [f"soak-{(cursor + i) % args.goals}" for i in range(args.rate)]
            cursor += args.rate
            reset = "".join(
                f"DEL goal:{{{g}}}\nHSET goal:{{{g}}} _cls ExclusiveGoal active 1 progress 0 level 0 levels.0.target 360 "
                f"exclusive_to v-{g} session_id s-{g}\nHSET session:{{s-{g}}} status.exclusive_to v-{g} "
                f"exclusive_goal_pairs.v-{g}.goal_id {g}\nHSET escrow:{{{g}}} state held amount 100 payer v-{g}\n"
                for g in goals)
            subprocess.run(cli, input=reset.encode(), stdout=subprocess.DEVNULL, check=True)
            now = int(time.time())
            for chunk in range(0, len(goals), 20):
                post(http_port, "channel_occupied", goals[chunk:chunk + 20], now)
            for chunk in range(0, len(goals), 20):
                post(http_port, "channel_vacated", goals[chunk:chunk + 20], now + 400)
            issued += len(goals)
            if time.time() >= next_sample:
                done = int(subprocess.run(cli + ["HGET", "tracking:counters", "goal.ended"], capture_output=True, text=True).stdout.strip() or 0)
                memory = int([l for l in subprocess.run(cli + ["INFO", "memory"], capture_output=True, text=True).stdout.splitlines()
                              if l.startswith("used_memory:")][0].split(":")[1])
                keys = int(subprocess.run(cli + ["DBSIZE"], capture_output=True, text=True).stdout.strip())
                rss = [rss_kib(services[s].pid) / 1024 for s in SERVICES]
                samples.append((rss, memory / 1048576))
                print(f"{int(time.time() - start):>5} {done:>7} " + " ".join(f"{r:>8.1f}" for r in rss) + f" {memory / 1048576:>8.1f} {keys:>7}", flush=True)
                next_sample += args.every
            time.sleep(max(0.0, 1.0 - (time.time() - tick)))
        deadline = time.time() + 60
        done = 0
        while time.time() < deadline:
            done = int(subprocess.run(cli + ["HGET", "tracking:counters", "goal.ended"], capture_output=True, text=True).stdout.strip() or 0)
            if done >= issued:
                break
            time.sleep(0.5)
        time.sleep(2)
        done = int(subprocess.run(cli + ["HGET", "tracking:counters", "goal.ended"], capture_output=True, text=True).stdout.strip() or 0)
        if len(samples) >= 3:
            first, last = samples[len(samples) // 2], samples[-1]
            growth = " ".join(f"{s}={l - f:+.1f}" for s, f, l in zip(SERVICES, first[0], last[0]))
            print(f"soak: memory growth over the second half (MiB): {growth} redis={last[1] - first[1]:+.1f}"
                  f" ({(last[1] - first[1]) / first[1] * 100:+.1f} %)")
        status = "passed" if done == issued else "FAILED"
        print(f"soak: {issued} chains sent, {done} ended: {status}")
        return 0 if done == issued else 1
    finally:
        for process in services.values():
            process.send_signal(signal.SIGTERM)
        for process in services.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        redis.terminate()


if __name__ == "__main__":
    sys.exit(main())
