#!/usr/bin/env bash
# A single-node Slurm cluster on Debian 12 (Debian's slurm 22.05), for Runway's Slurm tests and benchmark,
# started without systemd. Run as root. It keeps job accounting as a production cluster does: slurmdbd over a
# MariaDB of its own (its own data directory, socket and loopback port, so a host's MariaDB is left alone), so
# sacct answers with the jobs' states, CPU time and peak memory.
#
#   slurm-single-node.sh [up]    install if missing, configure, start munged, MariaDB, slurmdbd (registering
#                                the cluster), slurmctld and slurmd, and wait until the node is idle; exits 1
#                                after RUNWAY_SLURM_UP_TIMEOUT seconds (60)
#   slurm-single-node.sh down    stop the daemons this script started (by their recorded pids, never by name)
#   slurm-single-node.sh status  what runs, and whether this script started it
#   slurm-single-node.sh stop-controller | start-controller
#                                stop or start slurmctld alone (the tests' "controller down" case)
#
# Idempotent: a daemon already running (pid file, and /proc/PID/exe is its binary) is reused; a changed
# configuration restarts only the daemons this script started. Settings (environment):
#   RUNWAY_SLURM_CPUS (default 8: more than the machine has, so tests run jobs side by side; Slurm
#   oversubscribes the host), RUNWAY_SLURM_PARTITION (debug), RUNWAY_SLURM_UP_TIMEOUT (60),
#   RUNWAY_SLURM_GPUS (default 2: fake GPUs, gres/gpu over /dev/null-like files, so --gres=gpu:N is
#   scheduled and counted as on a real GPU node; no device is given to jobs), RUNWAY_SLURM_DB_PORT (6830:
#   the loopback port of the accounting MariaDB; slurmdbd itself listens on Slurm's 6819).
# Where the kernel has a cgroup v1 memory hierarchy (/sys/fs/cgroup/memory), jobs run under task/cgroup with
# their memory constrained, as on a production cluster: a job over its --mem ends OUT_OF_MEMORY. Elsewhere
# task/none (Slurm 22.05's cgroup/v2 needs systemd, which this script does without). Job accounting gathers
# from the same cgroups there (jobacct_gather/cgroup: a step's peak memory is its cgroup's high-water mark, so
# even a one-second job has one); elsewhere from /proc every second (jobacct_gather/linux).
set -euo pipefail

MODE=${1:-up}
CPUS=${RUNWAY_SLURM_CPUS:-8}
GPUS=${RUNWAY_SLURM_GPUS:-2}
PARTITION=${RUNWAY_SLURM_PARTITION:-debug}
UP_TIMEOUT=${RUNWAY_SLURM_UP_TIMEOUT:-60}
DB_PORT=${RUNWAY_SLURM_DB_PORT:-6830}
CLUSTER=runway

CONF=/etc/slurm/slurm.conf
GRES_CONF=/etc/slurm/gres.conf
CGROUP_CONF=/etc/slurm/cgroup.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
DB_DATA=/var/lib/slurm/mariadb  # the accounting MariaDB's own data directory
DB_SOCKET=/run/runway-slurm/mariadb/mariadb.sock
DB_PIDFILE=/run/runway-slurm/mariadb/mariadbd.pid
OWN=/run/runway-slurm          # pids of the daemons this script started
RUN=/run/slurm
LOGS=/var/log/slurm
STATE=/var/lib/slurm/slurmctld
SPOOL=/var/lib/slurm/slurmd
MARK="# written by Runway's scripts/slurm-single-node.sh"

say() { printf 'slurm-single-node: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages, writes /etc/slurm and starts daemons)"

# pid_of FILE BINARY: the pid in FILE, if that process is alive and runs BINARY (not a reused pid).
pid_of() {
    local pid
    [ -r "$1" ] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [ -n "$pid" ] && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$2")" ] && echo "$pid"
}
exited() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
left() { echo $(( DEADLINE - $(date +%s) )); }

install_packages() {
    local binary missing=
    for binary in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/slurmdbd /usr/bin/sbatch /usr/sbin/munged /usr/sbin/mariadbd; do
        [ -x "$binary" ] || missing=1
    done
    [ -n "$missing" ] || return 0
    say "installing slurmctld slurmd slurmdbd slurm-client munge mariadb-server"
    # The packages' scripts must not start daemons: there is no systemd, and this script starts them.
    local guard=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && guard=1
    fi
    apt-cache show slurmctld >/dev/null 2>&1 || apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmctld slurmd slurmdbd slurm-client munge mariadb-server >/dev/null \
        || { [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed"; }
    [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
    install -d -o munge -g munge -m 0711 /var/lib/munge
    install -d -o munge -g munge -m 0755 /run/munge
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    munge_works && return 0
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --force 9>&- || die "munged did not start: see /var/log/munge/munged.log"
    while [ "$(left)" -gt 0 ] && ! munge_works; do sleep 0.2; done
    munge_works || die "munged does not answer: see /var/log/munge/munged.log"
    pid_of /run/munge/munged.pid /usr/sbin/munged >"$OWN/munged.pid" || true
}

# install_conf TMP FILE [MODE OWNER]: puts TMP in place of FILE (keeping a FILE this script did not write);
# 0 when it changed.
install_conf() {
    if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$1"; return 1; fi
    if [ -f "$2" ] && ! grep -qF "$MARK" "$2"; then
        cp -p "$2" "$2.before-runway"
        say "kept the earlier $2 as $2.before-runway"
    fi
    install -D -m "${3:-0644}" -o "${4:-root}" -g "${4:-root}" "$1" "$2" && rm -f "$1"
}

# The fake GPUs: gres/gpu needs one device file per GPU; any existing character devices do, since no
# job is given them (ConstrainDevices=no). Returns 0 when gres.conf changed.
write_gres_conf() {
    local node=$1 tmp i
    tmp=$(mktemp)
    { echo "$MARK"; echo "AutoDetect=off"
      for i in $(seq "$GPUS"); do
          echo "NodeName=$node Name=gpu File=$(echo /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | cut -d' ' -f"$i")"
      done; } >"$tmp"
    install_conf "$tmp" "$GRES_CONF"
}

write_cgroup_conf() {
    local tmp
    tmp=$(mktemp)
    printf '%s\nCgroupPlugin=autodetect\nConstrainRAMSpace=yes\nConstrainCores=no\nConstrainDevices=no\n' "$MARK" >"$tmp"
    install_conf "$tmp" "$CGROUP_CONF"
}

# Writes slurm.conf, gres.conf and cgroup.conf; returns 0 when one changed.
write_conf() {
    local node memory tmp changed=1 task=task/none proctrack=proctrack/linuxproc gather=jobacct_gather/linux
    node=$(hostname -s)
    memory=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    [ "$GPUS" -ge 1 ] && [ "$GPUS" -le 6 ] || die "RUNWAY_SLURM_GPUS must be 1 to 6"
    if [ -d /sys/fs/cgroup/memory ] && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
        task=task/cgroup proctrack=proctrack/cgroup gather=jobacct_gather/cgroup
        write_cgroup_conf && changed=0
    fi
    write_gres_conf "$node" && changed=0
    tmp=$(mktemp)
    cat >"$tmp" <<CONF
$MARK
ClusterName=$CLUSTER
SlurmctldHost=$node(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=$proctrack
TaskPlugin=$task
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$(( memory / CPUS / 2 ))
SchedulerType=sched/backfill
# Slurm's default makes every job wait up to 3 s for its scheduling pass.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
EnforcePartLimits=ALL
# A finished job stays in squeue/scontrol this long; sacct (slurmdbd) keeps it after that.
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819
# A step's CPU time and peak memory, read at its end (and every second while it runs).
JobAcctGatherType=$gather
JobAcctGatherFrequency=task=1
# More CPUs than the machine has: short test jobs run side by side.
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$memory Gres=gpu:$GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    install_conf "$tmp" "$CONF" && changed=0
    [ "$changed" -eq 0 ] && say "wrote $CONF (node $node, $CPUS CPUs, ${memory} MiB, $GPUS fake GPUs, $task, $gather)"
    return "$changed"
}

# slurmdbd.conf, readable by Slurm's user alone (slurmdbd refuses it otherwise: it holds the database's
# password, made once and kept). Returns 0 when it changed.
write_dbd_conf() {
    local tmp password
    password=$(sed -n 's/^StoragePass=//p' "$DBD_CONF" 2>/dev/null || true)
    [ -n "$password" ] || password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    tmp=$(mktemp)
    cat >"$tmp" <<CONF
$MARK
AuthType=auth/munge
DbdHost=$(hostname -s)
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$password
StorageLoc=slurm_acct_db
CONF
    install_conf "$tmp" "$DBD_CONF" 0600 slurm
}

prepare_directories() {
    install -d -o slurm -g slurm -m 0755 "$RUN" "$LOGS" "$(dirname "$STATE")" "$STATE"
    install -d -m 0755 "$SPOOL" "$OWN"
    # slurmctld refuses state saved for another cluster name.
    if [ -f "$STATE/clustername" ] && [ "$(cat "$STATE/clustername")" != "$CLUSTER" ]; then
        mv "$STATE" "$STATE.other-cluster.$(date +%s)" && install -d -o slurm -g slurm -m 0755 "$STATE"
    fi
}

ctld() { pid_of "$RUN/slurmctld.pid" /usr/sbin/slurmctld; }
slurmd_pid() { pid_of "$RUN/slurmd.pid" /usr/sbin/slurmd; }
dbd() { pid_of "$RUN/slurmdbd.pid" /usr/sbin/slurmdbd; }

sql() { mariadb --no-defaults --socket="$DB_SOCKET" -u root --batch --skip-column-names "$@"; }

# The accounting database: a MariaDB of Slurm's alone, on loopback, its data under /var/lib/slurm. mariadbd
# does not put itself in the background: it is started in a session of its own, and its pid recorded.
start_mariadb() {
    local pid=
    if ! [ -d "$DB_DATA/mysql" ]; then
        say "creating the accounting database in $DB_DATA"
        install -d -o mysql -g mysql -m 0700 "$DB_DATA"
        mariadb-install-db --no-defaults --user=mysql --datadir="$DB_DATA" --auth-root-authentication-method=socket \
            --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 || die "mariadb-install-db failed: see $LOGS/mariadb-install.log"
    fi
    if pid=$(pid_of "$DB_PIDFILE" /usr/sbin/mariadbd) && sql -e 'SELECT 1' >/dev/null 2>&1; then
        say "mariadbd runs already (pid $pid)"
    else
        say "starting mariadbd (127.0.0.1:$DB_PORT)"
        install -d -o mysql -g mysql -m 0755 "$(dirname "$DB_SOCKET")"
        setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DB_DATA" --socket="$DB_SOCKET" \
            --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$DB_PIDFILE" \
            --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --log-error="$LOGS/mariadb.log" \
            </dev/null >/dev/null 2>&1 9>&- &
        while [ "$(left)" -gt 0 ] && ! sql -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
        pid=$(pid_of "$DB_PIDFILE" /usr/sbin/mariadbd) && sql -e 'SELECT 1' >/dev/null 2>&1 \
            || { tail -n 20 "$LOGS/mariadb.log" >&2 || true; die "mariadbd did not start: see $LOGS/mariadb.log"; }
        echo "$pid" >"$OWN/mariadbd.pid"
    fi
    # slurmdbd's account, with the password of slurmdbd.conf (set anew each time: the two never disagree).
    local password
    password=$(sed -n 's/^StoragePass=//p' "$DBD_CONF")
    sql -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
            ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" || die "could not create the database account of slurmdbd"
}

# slurmdbd answers, and knows this cluster (slurmctld sends jobs only to a cluster slurmdbd has).
register_cluster() {
    local clusters=
    while [ "$(left)" -gt 0 ]; do
        clusters=$(sacctmgr --noheader --parsable2 list cluster format=cluster 2>/dev/null) && break
        sleep 0.3
    done
    [ "$(left)" -gt 0 ] || { tail -n 20 "$LOGS/slurmdbd.log" >&2 || true; die "slurmdbd does not answer: see $LOGS/slurmdbd.log"; }
    if ! grep -qx "$CLUSTER" <<<"$clusters"; then
        say "registering cluster $CLUSTER with slurmdbd"
        sacctmgr --immediate add cluster "$CLUSTER" >/dev/null || die "sacctmgr could not add cluster $CLUSTER"
    fi
}

# start NAME BINARY PIDFILE
start() {
    local pid=
    pid=$(pid_of "$3" "$2") && { say "$1 runs already (pid $pid)"; return 0; }
    say "starting $1"
    date +%s >"$OWN/$1.started"
    "$2" 9>&- || die "$1 exited with $?: see $LOGS/$1.log"
    while [ "$(left)" -gt 0 ]; do pid=$(pid_of "$3" "$2") && break; sleep 0.2; done
    [ -n "$pid" ] || { tail -n 20 "$LOGS/$1.log" >&2 || true; die "$1 did not start: see $LOGS/$1.log"; }
    echo "$pid" >"$OWN/$1.pid"
}

# stop NAME BINARY: only a daemon this script started.
stop() {
    local pid _
    pid=$(pid_of "$OWN/$1.pid" "$2") || { rm -f "$OWN/$1.pid"; return 0; }
    say "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do exited "$pid" && break; sleep 0.2; done
    exited "$pid" || { kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; }
    rm -f "$OWN/$1.pid"
}

# The node is usable, and slurmctld heard from the slurmd running now, not a state recovered from disk.
wait_until_idle() {
    local node state registered started pid resumed=
    node=$(hostname -s)
    while [ "$(left)" -gt 0 ]; do
        state=$(sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n1 || true)
        pid=$(slurmd_pid || true)
        case "$state" in
            idle|mixed|allocated|completing)
                registered=$(scontrol show node "$node" 2>/dev/null | grep -oE 'SlurmdStartTime=[^ ]+' | cut -d= -f2 || true)
                registered=$(date -d "$registered" +%s 2>/dev/null || echo 0)
                # When this script started it, the wall-clock time it did; else from the process's age, which
                # counts in the kernel's clock and falls behind the wall clock where the machine was paused.
                if [ -n "$pid" ] && [ "$(cat "$OWN/slurmd.pid" 2>/dev/null)" = "$pid" ] && [ -s "$OWN/slurmd.started" ]; then
                    started=$(cat "$OWN/slurmd.started")
                else
                    started=$(( $(date +%s) - $(ps -o etimes= -p "${pid:-1}" 2>/dev/null || echo 0) ))
                fi
                if [ -n "$pid" ] && [ "$registered" -ge $(( started - 2 )) ]; then
                    say "node $node is $state"; return 0
                fi ;;
            drain*|down*|fail*)
                if [ -z "$resumed" ] && [ -n "$pid" ]; then
                    scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true; resumed=1
                fi ;;
        esac
        sleep 0.3
    done
    tail -n 15 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 2>/dev/null || true
    die "node $node not idle after ${UP_TIMEOUT}s (state '${state:-no answer}')"
}

up() {
    DEADLINE=$(( $(date +%s) + 600 ))   # apt may take a while; the bring-up itself gets UP_TIMEOUT
    install_packages
    DEADLINE=$(( $(date +%s) + UP_TIMEOUT ))
    prepare_directories
    local restart=
    if write_dbd_conf && dbd >/dev/null; then
        [ -e "$OWN/slurmdbd.pid" ] || die "slurmdbd.conf changed, and a slurmdbd this script did not start runs: stop it first"
        stop slurmdbd /usr/sbin/slurmdbd
    fi
    # The running slurmctld and slurmd read slurm.conf only when they start: accounting comes up first, so
    # that a controller in use is down only for its own restart.
    if write_conf && { ctld >/dev/null || slurmd_pid >/dev/null; }; then
        [ -e "$OWN/slurmctld.pid" ] || [ -e "$OWN/slurmd.pid" ] \
            || die "the configuration changed, and Slurm daemons this script did not start run: stop them first"
        restart=1
    fi
    start_munge
    start_mariadb
    start slurmdbd /usr/sbin/slurmdbd "$RUN/slurmdbd.pid"
    register_cluster
    if [ -n "$restart" ]; then
        stop slurmd /usr/sbin/slurmd
        stop slurmctld /usr/sbin/slurmctld
    fi
    start slurmctld /usr/sbin/slurmctld "$RUN/slurmctld.pid"
    start slurmd /usr/sbin/slurmd "$RUN/slurmd.pid"
    wait_until_idle
}

down() {
    stop slurmd /usr/sbin/slurmd
    stop slurmctld /usr/sbin/slurmctld
    stop slurmdbd /usr/sbin/slurmdbd
    stop mariadbd /usr/sbin/mariadbd
    stop munged /usr/sbin/munged
}

status() {
    local entry name binary file pid
    for entry in munged:/usr/sbin/munged:/run/munge/munged.pid mariadbd:/usr/sbin/mariadbd:$DB_PIDFILE \
        slurmdbd:/usr/sbin/slurmdbd:$RUN/slurmdbd.pid slurmctld:/usr/sbin/slurmctld:$RUN/slurmctld.pid \
        slurmd:/usr/sbin/slurmd:$RUN/slurmd.pid; do
        IFS=: read -r name binary file <<<"$entry"
        if pid=$(pid_of "$file" "$binary"); then
            if [ "$(cat "$OWN/$name.pid" 2>/dev/null)" = "$pid" ]; then echo "$name: pid $pid (started here)"; else echo "$name: pid $pid"; fi
        else
            echo "$name: not running"
        fi
    done
}

exec 9>/run/runway-slurm.lock
flock -w 120 9 || die "another run of this script holds /run/runway-slurm.lock"
case "$MODE" in
    up) up ;;
    down) down ;;
    status) status ;;
    stop-controller) stop slurmctld /usr/sbin/slurmctld ;;
    start-controller) DEADLINE=$(( $(date +%s) + UP_TIMEOUT )); install -d -m 0755 "$OWN"; start slurmctld /usr/sbin/slurmctld "$RUN/slurmctld.pid"; wait_until_idle ;;
    *) echo "usage: $0 [up|down|status|stop-controller|start-controller]" >&2; exit 2 ;;
esac
