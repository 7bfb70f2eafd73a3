#!/usr/bin/env python3
"""Random operations against a real supervisor, from a seed.

From the seed it writes small manifests and applies random operations:
reloads that add, change and remove processes, tasks, queues and
replicas; every ctl verb; SIGKILL and SIGSTOP of children; SIGHUP. After
each it checks the invariants: the supervisor lives and answers
"ctl --json list"; a command acted on exactly the instances it named; a
stopped unit has no live process; no descriptor or memory growth. At the
end SIGTERM must make it exit 0 or 1 within the stop timeout, and every
pid it ever started must be gone. A failure prints the seed and the
operation index: CHAOS_SEED=S replays the same run.

usage: chaos.py PYTASKING_RUN PYT_HELPER SECONDS SEED
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYT, HELPER = sys.argv[1], sys.argv[2]
SECONDS = float(sys.argv[3])
SEED = int(sys.argv[4])
SCALE = float(os.environ.get("PYT_TIMEOUT_SCALE", "1"))
rng = random.Random(SEED)
work = tempfile.mkdtemp(prefix="pyt-chaos.")
sock = os.path.join(work, "sv.sock")
man = os.path.join(work, "m.yaml")
op_index = 0
ops_log = []
seen_pids = set()
cycled = set()   # processes a task ever started and cancelled


def die(msg):
    print(f"chaos: FAIL at operation {op_index} (seed {SEED}): {msg}",
          file=sys.stderr)
    print("chaos: last operations:", file=sys.stderr)
    for line in ops_log[-int(os.environ.get("CHAOS_OPS", "15")):]:
        print("   ", line, file=sys.stderr)
    # Its log is buffered in a file: let it end by itself to flush it.
    if sv_alive():
        sv.send_signal(signal.SIGTERM)
        try:
            sv.wait(timeout=5 * SCALE)
        except subprocess.TimeoutExpired:
            pass
    try:
        with open(os.path.join(work, "err")) as f:
            tail = f.readlines()[-int(os.environ.get("CHAOS_TAIL", "40")):]
        print("chaos: supervisor's stderr (tail):", file=sys.stderr)
        sys.stderr.writelines(tail)
    except OSError:
        pass
    # The manifests the last reloads read, to see what changed.
    keep = os.environ.get("CHAOS_KEEP")
    if keep:
        os.makedirs(keep, exist_ok=True)
        for i, text in manifests:
            with open(os.path.join(keep, f"m.{i}.yaml"), "w") as f:
                f.write(text)
        print(f"chaos: the last manifests are in {keep}", file=sys.stderr)
    print(f"chaos: replay with CHAOS_SEED={SEED} make chaos "
          "(CHAOS_KEEP=DIR keeps the last manifests)", file=sys.stderr)
    cleanup(kill=True)
    sys.exit(1)


def ctl(*args, timeout=20):
    try:
        p = subprocess.run([PYT, "ctl", "-s", sock, *args],
                           capture_output=True, text=True,
                           timeout=timeout * SCALE)
    except subprocess.TimeoutExpired:
        die(f"ctl {' '.join(args)} did not answer in {timeout * SCALE}s")
    return p


def listing():
    p = ctl("--json", "list")
    if p.returncode != 0:
        die(f"ctl --json list failed: {p.stderr.strip()}")
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        die(f"ctl --json list: not JSON: {p.stdout[:200]!r}")
    units = doc.get("units", doc) if isinstance(doc, dict) else doc
    out = {}
    for u in units:
        # One name, one unit: two listed under one name is a bug.
        if u["name"] in out:
            die(f"two units named {u['name']} in ctl --json list: "
                f"{out[u['name']]} and {u}")
        out[u["name"]] = u
        if u.get("pid"):
            seen_pids.add(u["pid"])
    return out


# ----------------------------------------------------------- manifests
# A unit is a dict: kind, name, and what varies.
def new_proc(name):
    kind = rng.choice(["sleeper", "sleeper", "flappy", "termslow",
                       "consumer", "producer", "unhealthy", "bound"])
    p = {"kind": "proc", "name": name, "type": kind,
         "restart": rng.choice(["never", "on-failure", "always"]),
         "replicas": rng.choice([None, None, 1, 2, 3]),
         "arg": rng.randint(1, 9)}
    return p


def new_task(name):
    return {"kind": "task", "name": name,
            "type": rng.choice(["ticker", "starter", "feeder",
                                "reader"]),
            "arg": rng.randint(1, 9)}


def render(units):
    # Rings of 64 KiB: memory follows the number of units, not their talk.
    lines = ["version: 1", "log_buffer: 64KiB", "queues:", "  q1: {capacity: 50}",
             "  q2: {capacity: 20, mode: broadcast}"]
    procs = [u for u in units if u["kind"] == "proc"]
    tasks = [u for u in units if u["kind"] == "task"]
    names = [u["name"] for u in procs]
    if procs:
        lines.append("processes:")
    for p in procs:
        lines.append(f"  {p['name']}:")
        t = p["type"]
        if t == "sleeper":
            lines.append(f"    cmd: [{HELPER}, sleep, \"300\"]")
        elif t == "flappy":
            lines.append(f"    cmd: [{HELPER}, exit, \"{p['arg'] % 3}\"]")
            lines.append("    backoff: {initial: 50ms, max: 400ms}")
        elif t == "termslow":
            lines.append(f"    cmd: [{HELPER}, ignore-term, \"300\"]")
            lines.append("    stop_timeout: 300ms")
        elif t == "consumer":
            lines.append("    cmd: [cat]")
            lines.append("    stdin: q1")
            lines.append("    stdout: null")
        elif t == "producer":
            lines.append(f"    cmd: [seq, 1, \"{p['arg'] * 100}\"]")
            lines.append("    stdout: [q1, q2]")
        elif t == "unhealthy":
            # A liveness probe that fails: stopped and restarted.
            lines.append(f"    cmd: [{HELPER}, sleep, \"300\"]")
            lines.append("    liveness: {tcp: \"127.0.0.1:1\", "
                         f"interval: {p['arg'] * 40}ms, timeout: 50ms, "
                         "failures: 2}")
            lines.append("    backoff: {initial: 50ms, max: 200ms}")
        elif t == "bound":
            # Bound to the process declared before it, if any.
            lines.append(f"    cmd: [{HELPER}, sleep, \"300\"]")
            before = [q["name"] for q in procs[:procs.index(p)]]
            if before:
                dep = before[p["arg"] % len(before)]
                cond = "ready" if p["arg"] % 2 else "started"
                lines.append(f"    depends_on: {{{dep}: {{condition: "
                             f"{cond}, bind: true}}}}")
        lines.append(f"    restart: {p['restart']}")
        if p["replicas"] is not None:
            lines.append(f"    replicas: {p['replicas']}")
    if tasks:
        lines.append("tasks:")
    for t in tasks:
        lines.append(f"  {t['name']}:")
        lines.append("    run:")
        if t["type"] == "ticker":
            lines.append(f"      - every {t['arg'] * 50}ms:")
            lines.append("          - echo tick")
        elif t["type"] == "starter" and names:
            target = names[t["arg"] % len(names)]
            cycled.add(target)
            lines.append("      - loop:")
            lines.append(f"          - start {target}")
            lines.append(f"          - sleep {t['arg'] * 20}ms")
            lines.append(f"          - cancel {target}")
        elif t["type"] == "reader":
            # A task consumer: a shutdown drains its queue into it.
            lines.append(f"      - for x in q{1 + t['arg'] % 2}:")
            lines.append("          - set last $x")
            lines.append("      - echo reader saw the end")
        else:
            lines.append("      - loop:")
            lines.append("          - put q1 job")
            lines.append(f"          - sleep {t['arg'] * 30}ms")
            # What a cancelled task says still enters its queue.
            lines.append("    on_cancel:")
            lines.append("      - put q1 bye")
    return "\n".join(lines) + "\n"


manifests = []   # (operation, text) of the last manifests written


def write_manifest(units):
    text = render(units)
    manifests.append((op_index, text))
    del manifests[:-int(os.environ.get("CHAOS_MANIFESTS", "4"))]
    tmp = man + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, man)


# ------------------------------------------------------------- process
sv = None


def sv_alive():
    return sv is not None and sv.poll() is None


def fd_count():
    try:
        return len(os.listdir(f"/proc/{sv.pid}/fd"))
    except OSError:
        return -1


def fd_kinds():
    """What the supervisor's descriptors are: pipe, socket, file, ..."""
    kinds = {}
    try:
        for fd in os.listdir(f"/proc/{sv.pid}/fd"):
            try:
                t = os.readlink(f"/proc/{sv.pid}/fd/{fd}")
            except OSError:
                continue
            k = t.split(":")[0] if ":" in t else "file " + t
            kinds[k] = kinds.get(k, 0) + 1
    except OSError:
        pass
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(),
                                                  key=lambda x: -x[1])[:6])


def rss_kib():
    try:
        with open(f"/proc/{sv.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def cleanup(kill=False):
    if kill and sv_alive():
        sv.kill()
    for pid in seen_pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(work, ignore_errors=True)


def wait_sock():
    end = time.time() + 10 * SCALE
    while time.time() < end:
        if os.path.exists(sock):
            p = ctl("list")
            if p.returncode == 0:
                return
        if not sv_alive():
            die("the supervisor exited at start-up")
        time.sleep(0.02)
    die("the control socket never came up")


def instances(lst, name):
    """The instances a name means: the base name's, or the one named."""
    base = [n for n in lst if n == name or
            (n.startswith(name + ".") and n[len(name) + 1:].isdigit())]
    return base


# ---------------------------------------------------------- operations
units = [new_proc("p0"), new_proc("p1"), new_task("t0")]
counter = [2]


def fresh_name(kind):
    counter[0] += 1
    return f"{'p' if kind == 'proc' else 't'}{counter[0]}"


def op_reload():
    choice = rng.random()
    if choice < 0.3 or not units:
        kind = rng.choice(["proc", "proc", "task"])
        name = fresh_name(kind)
        units.append(new_proc(name) if kind == "proc" else new_task(name))
    elif choice < 0.5 and len(units) > 1:
        units.pop(rng.randrange(len(units)))
    elif choice < 0.8:
        u = rng.choice(units)
        if u["kind"] == "proc":
            u["replicas"] = rng.choice([None, 1, 2, 3, 4])
        else:
            u["arg"] = rng.randint(1, 9)
    else:
        u = rng.choice(units)
        u["arg"] = rng.randint(1, 9)
        if u["kind"] == "proc":
            u["restart"] = rng.choice(["never", "on-failure", "always"])
    write_manifest(units)
    if rng.random() < 0.3:
        sv.send_signal(signal.SIGHUP)
        return "SIGHUP reload"
    p = ctl("reload")
    if p.returncode != 0 and "added by ctl" not in p.stderr:
        die(f"ctl reload refused: {p.stderr.strip()}")
    return "ctl reload"


def pick_name(lst):
    names = list(lst)
    bases = {n.rsplit(".", 1)[0] for n in names if "." in n}
    pool = names + list(bases)
    return rng.choice(pool) if pool else None


def op_verb(lst):
    name = pick_name(lst)
    if name is None:
        return "nothing to do"
    verb = rng.choice(["start", "stop", "restart", "stop-nowait",
                       "restart-nowait", "signal", "status", "logs",
                       "scale"])
    named = set(instances(lst, name))
    before = {n: (u["state"], u.get("pid")) for n, u in lst.items()}
    if verb == "scale":
        p = ctl("scale", name.rsplit(".", 1)[0], str(rng.randint(1, 4)))
        return f"scale {name}: {p.returncode}"
    if verb == "signal":
        p = ctl("signal", name, rng.choice(["HUP", "USR1", "CONT"]))
        return f"signal {name}: {p.returncode}"
    if verb in ("status", "logs"):
        p = ctl(verb, name)
        if p.returncode != 0 and "no such unit" not in p.stderr:
            die(f"ctl {verb} {name}: {p.stderr.strip()}")
        return f"{verb} {name}"
    args = [verb.split("-")[0], name]
    if verb.endswith("-nowait"):
        args.append("--no-wait")
    p = ctl(*args, timeout=30)
    if p.returncode != 0:
        if "no such unit" in p.stderr or "being removed" in p.stderr:
            return f"{' '.join(args)}: {p.stderr.strip()}"
        die(f"ctl {' '.join(args)}: {p.stderr.strip()}")
    after = listing()
    if verb == "stop":
        for n in named:
            u = after.get(n)
            if u is None:
                continue
            # Stopped: no run, unless someone (a task) started it since.
            if u["state"] in ("exited", "failed") and u.get("pid"):
                die(f"stop {name}: {n} is {u['state']} with pid "
                    f"{u['pid']}")
    # Units not named that were running with a pid keep it, unless they
    # are started and cancelled by tasks or restart by themselves.
    for n, (state, pid) in before.items():
        if n in named or n not in after or not pid:
            continue
        if state != "running" or after[n]["state"] != "running":
            continue
        if after[n].get("pid") != pid and verb in ("stop", "restart") and \
                not volatile(n):
            die(f"{' '.join(args)} changed {n}, which it did not name "
                f"(pid {pid} -> {after[n].get('pid')})")
    return " ".join(args)


def volatile(n):
    """Units whose pid may change on their own."""
    base = n.rsplit(".", 1)[0] if n.rsplit(".", 1)[-1].isdigit() else n
    # A task starts and cancels its target all the time (and a reload the
    # supervisor refused may have left an older task doing so).
    if base in cycled:
        return True
    for u in units:
        if u["name"] == base:
            return u["type"] not in ("sleeper", "termslow")
    return True


def op_add_remove(lst):
    if rng.random() < 0.5:
        name = fresh_name("proc")
        if rng.random() < 0.5:
            p = ctl("add", "proc", name, "--restart", "on-failure", "--",
                    HELPER, "sleep", "300")
        else:
            p = ctl("add", "task", name, "--", "every 100ms: echo x"
                    if False else "sleep 200ms", "echo done")
        if p.returncode != 0:
            die(f"ctl add {name}: {p.stderr.strip()}")
        return f"add {name}"
    name = pick_name(lst)
    if name is None:
        return "nothing to remove"
    p = ctl("remove", name, timeout=30)
    if p.returncode != 0 and "no such unit" not in p.stderr:
        die(f"ctl remove {name}: {p.stderr.strip()}")
    after = listing()
    for n in instances(after, name):
        if after[n]["state"] not in ("stopping",):
            die(f"remove {name}: {n} still listed as {after[n]['state']}")
    # A removed manifest unit comes back at the next reload: forget it.
    base = name.rsplit(".", 1)[0]
    for u in list(units):
        if u["name"] in (name, base) and name == u["name"]:
            units.remove(u)
    write_manifest(units)
    return f"remove {name}"


def op_child(lst):
    pids = [u["pid"] for u in lst.values() if u.get("pid")]
    if not pids:
        return "no child"
    pid = rng.choice(pids)
    sig = rng.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGSTOP])
    try:
        os.kill(pid, sig)
        if sig == signal.SIGSTOP:
            time.sleep(0.05)
            os.kill(pid, signal.SIGCONT)
    except OSError:
        pass
    return f"kill -{sig.name} {pid}"


def op_put():
    # A put waits while the queue is full: that is not a failure.
    try:
        p = subprocess.run([PYT, "ctl", "-s", sock, "put", "q1",
                            *[f"item{i}" for i in range(rng.randint(1, 5))]],
                           capture_output=True, text=True, timeout=2)
    except subprocess.TimeoutExpired:
        return "put q1: waits (queue full)"
    return f"put q1: {p.returncode}"


def main():
    global sv, op_index
    write_manifest(units)
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS",
                                  "detect_leaks=1:abort_on_error=0")
    errf = open(os.path.join(work, "err"), "w")
    sv = subprocess.Popen([PYT, "--keep", "-s", sock, man],
                          stdout=subprocess.DEVNULL, stderr=errf, env=env)
    wait_sock()
    lst = listing()
    fd0, rss0 = None, None
    end = time.time() + SECONDS
    while time.time() < end:
        op_index += 1
        r = rng.random()
        if r < 0.25:
            what = op_reload()
        elif r < 0.65:
            what = op_verb(lst)
        elif r < 0.75:
            what = op_add_remove(lst)
        elif r < 0.9:
            what = op_child(lst)
        else:
            what = op_put()
        ops_log.append(f"{op_index}: {what}")
        if not sv_alive():
            die(f"the supervisor died (status {sv.returncode}) after: "
                f"{what}")
        lst = listing()
        for n, u in lst.items():
            if u["state"] in ("exited", "failed", "idle") and u.get("pid"):
                die(f"{n} is {u['state']} with pid {u['pid']}")
        if op_index == 20:
            fd0, rss0 = fd_count(), rss_kib()
            run0 = sum(1 for u in lst.values() if u.get("pid"))
    fd1, rss1 = fd_count(), rss_kib()
    lst1 = listing()
    run1 = sum(1 for u in lst1.values() if u.get("pid"))
    kinds1 = fd_kinds()
    # SIGTERM: exit 0 or 1, promptly, and nothing left behind.
    sv.send_signal(signal.SIGTERM)
    try:
        rc = sv.wait(timeout=30 * SCALE)
    except subprocess.TimeoutExpired:
        die("SIGTERM: the supervisor did not exit within 30s")
    if rc not in (0, 1):
        die(f"SIGTERM: exit status {rc}")
    time.sleep(0.1)
    left = []
    for pid in seen_pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().split(")")[-1].split()[0]
            if st != "Z":
                left.append(pid)
        except OSError:
            pass
    if left:
        die(f"processes left after SIGTERM: {left}")
    # A running process holds at most 5 (pipes, a pidfd): more is a leak.
    if fd0 is not None and fd0 > 0 and fd1 > fd0 + 16 + 5 * max(0, run1 - run0):
        die(f"descriptors grew from {fd0} to {fd1} with {run0} then "
            f"{run1} processes running ({kinds1})")
    # Units accumulate (ctl add, reloads): each may hold its ring, its
    # pipes' buffers and the manifest its run started with.
    if rss0 is not None and rss0 > 0 and \
            rss1 > 2 * rss0 + 65536 + 256 * len(lst1):
        die(f"RSS grew from {rss0} KiB to {rss1} KiB with {len(lst1)} "
            "units at the end")
    print(f"chaos: seed {SEED}: {op_index} operations, exit {rc}, "
          f"{len(seen_pids)} pids, {len(lst1)} units at the end "
          f"({run1} running), fds {fd0}->{fd1}, RSS {rss0}->{rss1} KiB")
    cleanup()


if __name__ == "__main__":
    main()
