#!/usr/bin/env python3
"""Where a local run's start and end cost CPU and wall time, piece by piece (issue 10): N sequential starts
of `/bin/echo hi` in run_account mode (as root, the account runway-run must exist) through a
runway-supervisor binary, each variant with and without one more piece of what Runway does per run.

  python3 bench/startcost.py SUPERVISOR [N] [variant ...]

CPU is the supervisor's whole tree (utime+stime+cutime+cstime from /proc), this script's own (for the
cgroup work the server does: mkdir, limit writes, reads, rmdir) and the kernel threads' (kworkers run a
network namespace's teardown and a memory cgroup's offlining asynchronously, charged to nobody else).
Other load on the machine shows up in the kernel threads' figure too: compare variants back to back.
"""
import os, shutil, socket, struct, sys, time, pwd

SUP = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 500
ONLY = sys.argv[3:]
acct = pwd.getpwnam("runway-run")
data = "/tmp/startcost-data"
env = [f"{k}={v}" for k, v in {"PATH": "/usr/bin:/bin", "HOME": "/", "LANG": "C.UTF-8"}.items()]
TCK = os.sysconf("SC_CLK_TCK")


def own_cgroup(controller):
    for line in open("/proc/self/cgroup"):
        _, names, path = line.rstrip("\n").split(":", 2)
        if controller in names.split(",") or (controller == "" and names == ""):
            return path
    return "/"


HIER = {name: f"/sys/fs/cgroup/{name}{own_cgroup(name if name != 'unified' else '')}".rstrip("/") + "/startcost"
        for name in ["memory", "cpu", "cpuacct", "pids", "unified"]}


def kthreads_cpu():
    total = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            f = open(f"/proc/{p}/stat").read()
        except OSError:
            continue
        f = f[f.rindex(")") + 2:].split()
        if f[1] == "2" or p == "2":
            total += int(f[11]) + int(f[12])
    return total / TCK


def tree_cpu(pid):
    f = open(f"/proc/{pid}/stat").read()
    f = f[f.rindex(")") + 2:].split()
    return sum(int(x) for x in f[11:15]) / TCK


def s(b):
    b = b.encode()
    return struct.pack("<I", len(b)) + b


def strs(items):
    return struct.pack("<I", len(items)) + b"".join(s(x) for x in items)


def recv(sock):
    h = b""
    while len(h) < 4:
        h += sock.recv(4 - len(h))
    n = struct.unpack("<I", h)[0]
    d = b""
    while len(d) < n:
        d += sock.recv(n - len(d))
    return d


def write(path, text):
    fd = os.open(path, os.O_WRONLY)
    os.write(fd, text.encode())
    os.close(fd)


def run(tag, flags, hierarchies=(), limits=False):
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data + "/runs")
    os.chmod(data, 0o700)
    for h in hierarchies:
        os.makedirs(HIER[h], exist_ok=True)
    sock_path = data + "/supervisor.sock"
    import subprocess
    p = subprocess.Popen([SUP, sock_path, data + "/supervisor.log"], start_new_session=True)
    while not os.path.exists(sock_path):
        time.sleep(0.01)
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sock_path)
    recv(sock)
    dirs = []
    for i in range(N):
        d = f"{data}/runs/{tag}{i}"
        os.mkdir(d)
        os.chown(d, acct.pw_uid, acct.pw_gid)
        dirs.append(d)
    k0, t0, s0, own0 = kthreads_cpu(), time.time(), tree_cpu(p.pid), os.times()
    for i in range(N):
        cg = [f"{HIER[h]}/r{i}" for h in hierarchies]
        for c in cg:
            os.mkdir(c)
        if limits:
            for h, c in zip(hierarchies, cg):
                if h == "cpu":
                    write(c + "/cpu.cfs_period_us", "100000")
                    write(c + "/cpu.cfs_quota_us", "100000")
                if h == "pids":
                    write(c + "/pids.max", "1000")
        req = (b"S" + struct.pack("<QIII", i, flags, acct.pw_uid, acct.pw_gid) + s(data) + s(dirs[i]) + s("/bin/echo")
               + strs(["/bin/echo", "hi"]) + strs(env) + strs([c + "/cgroup.procs" for c in cg])
               + (s(f"owner{i % 2}") if flags & 32 else b""))
        sock.sendall(struct.pack("<I", len(req)) + req)
        r = recv(sock)
        assert r[:1] == b"R", r
        x = recv(sock)
        assert x[:1] == b"X", x
        assert struct.unpack("<i", x[13:17])[0] == 0
        for h, c in zip(hierarchies, cg):
            if h in ("memory", "cpuacct", "unified"):
                open(c + ("/memory.max_usage_in_bytes" if h == "memory" else "/cpuacct.usage" if h == "cpuacct" else "/cgroup.events")).read()
        for c in reversed(cg):
            os.rmdir(c)
    wall = time.time() - t0
    own1 = os.times()
    sup = tree_cpu(p.pid) - s0
    sock.close()
    p.wait()
    kernel = kthreads_cpu() - k0
    own = (own1.user + own1.system) - (own0.user + own0.system)
    for h in hierarchies:
        try:
            os.rmdir(HIER[h])
        except OSError:
            pass
    print(f"{tag:28s} supervisor {sup / N * 1000:5.2f}  cgroup work {own / N * 1000:5.2f}  kthreads {kernel / N * 1000:5.2f}"
          f"  total {(sup + own + kernel) / N * 1000:5.2f} ms CPU/run   wall {wall / N * 1000:5.2f} ms/run", flush=True)


VARIANTS = {
    "isolated": (5, ()),
    "isolated+netns": (13, ()),
    "isolated+shared-netns": (45, ()),
    "isolated+5cgroups": (5, ("memory", "cpu", "cpuacct", "pids", "unified"), True),
    "isolated+netns+5cgroups": (13, ("memory", "cpu", "cpuacct", "pids", "unified"), True),
    "isolated+shared-netns+3cgroups": (45, ("memory", "cpu", "unified"), True),
    "isolated+cpu,unified": (5, ("cpu", "unified"), True),
    "isolated+memory,cpu,unified": (5, ("memory", "cpu", "unified"), True),
    "isolated+unified": (5, ("unified",), False),
    "isolated+memory": (5, ("memory",), False),
}

print("load before:", open("/proc/loadavg").read().split()[0], flush=True)
for name, v in VARIANTS.items():
    if not ONLY or name in ONLY:
        run(name, *v)
print("load after:", open("/proc/loadavg").read().split()[0])
shutil.rmtree(data, ignore_errors=True)
