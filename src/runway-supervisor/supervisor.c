/*
 * runway-supervisor: one long-lived process per node that starts every local run and is its parent, so
 * that no process is started per run but the command itself (issue 10). Runway's server starts it
 * detached (its own session), talks to it over a Unix socket in the data directory and reconnects to
 * it after a restart; the runs outlive the server either way.
 *
 * Usage: runway-supervisor SOCKET LOG
 *
 * For each start request it forks and does in the child what the isolation chain (unshare, the isolate
 * sh script, setpriv; see RunIsolation.cs) does, as system calls: new mount and pid namespaces (and a
 * user namespace mapping root to the server's user when it is unprivileged), a tmpfs over the data
 * directory with the run directory bound back, a fresh /proc, a new session, then in the command's
 * process: no capabilities, no_new_privs, the run account, /dev/null stdin, the run directory's logs as
 * stdout and stderr, execve of the argument vector. No shell parses anything.
 *
 * It is the child subreaper and writes what the sh wrapper wrote: `pid` and `pid_start` before the
 * command runs, `rusage` and `exit_code` (write, rename, then fsync) once the run's leader is reaped, then
 * tells the connected server. The exit records are written by a thread of their own (the record writer),
 * so that an fsync never holds up the loop that starts and reaps runs; runs that end while it syncs are
 * written together next. The word 'X' still goes out only once the record is durable. A run in namespaces is led by a small init (a fork of this program, pid 1
 * of the run's pid namespace) that waits for the command; when it exits the kernel ends whatever the
 * run left, even processes that left its group.
 *
 * Protocol, both ways: frames of a u32 length then that many bytes; integers little-endian; a string is
 * a u32 length then its bytes (no NUL). Server to supervisor:
 *   'S' u64 request, u32 flags (1 isolate, 2 user namespace, 4 run account, 8 private network, 16 hide runs_dir,
 *       32 shared loopback), u32 uid, u32 gid, str data_dir, str run_dir, str program, u32 argc, argc x str,
 *       u32 envc, envc x str ("K=V"),
 *       u32 cgroupc, cgroupc x str (cgroup.procs files the run's first process joins before anything else),
 *       [str runs_dir: with flag 16 only, the runs directory outside the data directory, hidden as well]
 *       [str network key: with flag 32 only (and 8, not 2): the run joins the loopback-only network namespace
 *        this supervisor keeps for that key (one per run owner) instead of getting a new one]
 *   'L' u32 ms, u32 count, count x (i32 pid, i64 start)   these runs' leases hold for ms more (several nodes on
 *       one database only): a run named in one is killed whole once its last lapses, and its end is recorded
 *       nowhere (no rusage, no exit_code), since the node that takes it over decides how it ended
 * Supervisor to server:
 *   'H' u32 count, count x (i32 pid, i64 start)   on connect: the runs it leads now
 *   'R' u64 request, i32 pid, i64 start           started (the pid files are written)
 *   'F' u64 request, str message                  not started
 *   'X' i32 pid, i64 start, i32 code              ended (exit_code written); code is 128+signal when killed,
 *                                                 -1 when killed because its lease lapsed (nothing written)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>

#define FLAG_ISOLATE 1u
#define FLAG_USERNS 2u
#define FLAG_ACCOUNT 4u
#define FLAG_NETWORK 8u
#define FLAG_RUNS 16u
#define FLAG_SHARED_NET 32u
#define MAX_SHARED_NETS 256
#define MAX_FRAME (8u << 20)
#define MAX_CLIENTS 8
#define MAX_ITEMS 65536
#define FIRST_CONNECT_MS 10000
#define ISOLATE_FAILED 125

struct run {
    pid_t pid;
    long long start;
    int dir;
    int ended;        /* reaped: its record is with the writer; still listed in a hello until the word is sent */
    int code;
    char usage[128];
    long long lease_ms;  /* monotonic ms its lease holds until; 0: never told of one */
    int lease_lapsed;    /* killed for it: its end is not its outcome */
    char *kill_file;     /* its v2 cgroup's cgroup.kill, if it has one */
    struct run *next;
    struct run *queued; /* the writer's lists, under records_lock */
};

struct client {
    int fd;
    unsigned char *buf;
    size_t len, cap;
};

struct request {
    uint64_t id;
    uint32_t flags, uid, gid;
    char *data_dir, *run_dir, *program, *runs_dir, *net_key;
    char **argv, **envp, **cgroups;
    int net; /* with FLAG_SHARED_NET: the kept namespace the run joins */
};

/* Loopback-only network namespaces kept for runs of one key (their owner), each held open by a descriptor. A
 * new namespace per run costs its creation and an asynchronous teardown in the kernel's workers (issue 10);
 * a kept one costs a setns. The oldest is let go when the table is full (its runs keep it alive). */
struct shared_net {
    char *key;
    int fd;
    unsigned long long used;
};

static struct shared_net shared_nets[MAX_SHARED_NETS];
static unsigned long long net_clock;

static struct run *runs;

/* The record writer: `to_write` are reaped runs whose records it has yet to write, `written` those whose word the
 * loop has yet to send (it is woken through records_pipe). The writer never allocates: a fork of the loop's thread
 * (a run's start) must not find an allocator lock held. */
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t records_wake = PTHREAD_COND_INITIALIZER;
static struct run *to_write, *written;
static int writer_busy;
static int records_pipe[2] = {-1, -1};
static struct client clients[MAX_CLIENTS];
static int run_count;

/* ---- small helpers ---- */

static void logf_(const char *format, ...)
{
    char line[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t ignored = write(2, line, (size_t)n);
    (void)ignored;
}

static int write_all(int fd, const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Start time of a process in clock ticks since boot (field 22 of /proc/pid/stat), or -1. */
static long long start_time(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = 0;
    char *p = strrchr(text, ')'); /* comm may hold spaces and parentheses */
    if (!p)
        return -1;
    p += 2; /* field 3, the state */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    return strtoll(p, NULL, 10);
}

/* Writes NAME in the run directory through a temporary name and a rename, so a reader sees all or nothing;
 * never follows a link the run planted (O_EXCL, and rename replaces the entry itself). DURABLE: the fsync comes
 * after the rename, so it is NAME that is on disk when it returns, not the temporary name: ext4 then syncs the new
 * entry's directory with the file (its parent, without a journal; the transaction holding the rename, with one),
 * and XFS forces its log past the rename. Synced before the rename, a crash could leave only the temporary name,
 * and the run no exit record. */
static int write_file(int dir, const char *name, const char *text, int durable)
{
    char temporary[64];
    snprintf(temporary, sizeof temporary, "%s.runway-tmp", name);
    /* O_EXCL follows no link; whatever is in the way (the run's, or a crash's leftover) is deleted, then tried once more.
     * Deleting first on every write was an unlink that found nothing, four times per run. */
    int fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST && unlinkat(dir, temporary, 0) == 0)
        fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all(fd, text, strlen(text)) < 0 || renameat(dir, temporary, dir, name) < 0) {
        close(fd);
        unlinkat(dir, temporary, 0);
        return -1;
    }
    int failed = durable && fsync(fd) < 0;
    close(fd);
    return failed ? -1 : 0;
}

/* ---- frames ---- */

struct out {
    unsigned char data[65536]; /* a hello lists every live run: 12 bytes each */
    size_t len;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->len + n <= sizeof o->data) {
        memcpy(o->data + o->len, p, n);
        o->len += n;
    }
}

static void put_u32(struct out *o, uint32_t v) { put(o, &v, 4); }
static void put_i64(struct out *o, long long v) { int64_t x = v; put(o, &x, 8); }

static void begin(struct out *o, char type)
{
    o->len = 4;
    put(o, &type, 1);
}

static void drop_client(struct client *c)
{
    close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static void send_frame(struct client *c, struct out *o)
{
    uint32_t length = (uint32_t)(o->len - 4);
    memcpy(o->data, &length, 4);
    if (c->fd >= 0 && write_all(c->fd, o->data, o->len) < 0)
        drop_client(c);
}

static void send_all(struct out *o)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
            send_frame(&clients[i], o);
}

struct reader {
    const unsigned char *p, *end;
    int bad;
};

static uint32_t get_u32(struct reader *r)
{
    uint32_t v = 0;
    if (r->end - r->p < 4) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, 4);
    r->p += 4;
    return v;
}

static uint64_t get_u64(struct reader *r)
{
    uint64_t v = 0;
    if (r->end - r->p < 8) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, 8);
    r->p += 8;
    return v;
}

static char *get_str(struct reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n || memchr(r->p, 0, n)) {
        r->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->bad = 1;
        return NULL;
    }
    memcpy(s, r->p, n);
    s[n] = 0;
    r->p += n;
    return s;
}

static char **get_strs(struct reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || n > MAX_ITEMS) {
        r->bad = 1;
        return NULL;
    }
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) {
        r->bad = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++)
        v[i] = get_str(r);
    return v;
}

static void free_strs(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static void free_request(struct request *q)
{
    free(q->data_dir);
    free(q->run_dir);
    free(q->program);
    free(q->runs_dir);
    free(q->net_key);
    free_strs(q->argv);
    free_strs(q->envp);
    free_strs(q->cgroups);
}

/* ---- the run's side of the fork ---- */

static volatile sig_atomic_t stop_signal;

static void on_stop(int signal) { stop_signal = signal; }

/* Tells the supervisor why the run did not start (the status pipe), then ends this process. */
static void fail(int status, int code, const char *what)
{
    char message[512];
    int n = snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
    if (n > 0)
        write_all(status, message, (size_t)(n < (int)sizeof message ? n : (int)sizeof message - 1));
    _exit(code);
}

static void write_id_map(int status, const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
        fail(status, ISOLATE_FAILED, file);
    close(fd);
}

/* Joins the run's cgroups (RunCgroups.cs): before it forks or execs anything, so all it starts is in them. */
static void join_cgroups(struct request *q, int status)
{
    for (char **file = q->cgroups; file && *file; file++) {
        int fd = open(*file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write_all(fd, "0", 1) < 0)
            fail(status, ISOLATE_FAILED, *file);
        close(fd);
    }
}

/* In a new network namespace: loopback up, and no other interface. NULL, or what failed (errno set). */
static const char *loopback_up(void)
{
    struct ifreq lo;
    memset(&lo, 0, sizeof lo);
    strcpy(lo.ifr_name, "lo");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &lo) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        errno = saved;
        return "the loopback interface";
    }
    lo.ifr_flags |= IFF_UP;
    int failed = ioctl(fd, SIOCSIFFLAGS, &lo) < 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return failed ? "bringing loopback up" : NULL;
}

/* mkdir -p of PATH (absolute), each new directory 0755 under the umask. */
static void make_path(int status, const char *path)
{
    char partial[4096];
    size_t n = strlen(path);
    if (n >= sizeof partial)
        fail(status, ISOLATE_FAILED, "the run directory's path is too long");
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == 0) {
            memcpy(partial, path, i);
            partial[i] = 0;
            if (mkdir(partial, 0755) < 0 && errno != EEXIST)
                fail(status, ISOLATE_FAILED, "mkdir of the run directory under the tmpfs");
        }
    }
}

/* A log the run's command writes to: a regular file in the run directory, never through a link or a FIFO a
 * run of this directory left there. Opened as the run's own user. */
static int open_log(int status, const char *name)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        fail(status, 127, name);
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        fail(status, 127, name);
    }
    fcntl(fd, F_SETFL, 0);
    return fd;
}

static void reset_signals(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);
}

/* The command's process: as setpriv would, then execve. Never returns. */
static void exec_command(struct request *q, int status)
{
    reset_signals();
    if (q->flags & FLAG_ISOLATE) {
        for (int cap = 0; cap <= 63; cap++)
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                fail(status, ISOLATE_FAILED, "dropping the capability bounding set");
        if (q->flags & FLAG_ACCOUNT) {
            if (setgroups(0, NULL) < 0 || setresgid(q->gid, q->gid, q->gid) < 0 || setresuid(q->uid, q->uid, q->uid) < 0)
                fail(status, ISOLATE_FAILED, "switching to the run account");
        }
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct none[2];
        memset(none, 0, sizeof none);
        if (syscall(SYS_capset, &header, none) < 0)
            fail(status, ISOLATE_FAILED, "dropping capabilities");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            fail(status, ISOLATE_FAILED, "no_new_privs");
    }
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = open_log(status, "stdout.log");
    int err = open_log(status, "stderr.log");
    if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        fail(status, 127, "redirecting the command's input and output");
    sigset_t none_blocked;
    sigemptyset(&none_blocked);
    sigprocmask(SIG_SETMASK, &none_blocked, NULL);
    execve(q->program, q->argv, q->envp);
    fail(status, 127, q->program);
}

static int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

/* A stop (TERM, INT, HUP) still blocked here came before the command started. */
static int pending_stop(void)
{
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGTERM) ? SIGTERM : sigismember(&pending, SIGINT) ? SIGINT : sigismember(&pending, SIGHUP) ? SIGHUP : 0;
}

/*
 * The run's leader, just forked (in new namespaces when isolated). TERM, INT and HUP are blocked, as in the
 * supervisor: a stop sent before a handler is set stays pending instead of being dropped (a pid namespace's
 * init never gets a signal it has no handler for).
 * 1. Isolated: map root to the server's user (user namespace), make every mount private, hide the data
 *    directory (and a runs directory outside it) under a tmpfs, bind the run directory back from the open descriptor, mount a /proc of the
 *    run's own pid namespace.
 * 2. Lead a new session and process group: a stop signals the group.
 * 3. Wait for the supervisor's go (the pid files are written), so a run without them never ran.
 * 4. Not isolated: become the command. Isolated: fork it, stay its init, end with its status.
 */
static void lead_run(struct request *q, int dir, int go, int status, uid_t outer_uid, gid_t outer_gid)
{
    if (q->flags & FLAG_ISOLATE) {
        umask(022);
        if (q->flags & FLAG_USERNS) {
            char map[64];
            write_id_map(status, "/proc/self/setgroups", "deny");
            snprintf(map, sizeof map, "0 %u 1", (unsigned)outer_uid);
            write_id_map(status, "/proc/self/uid_map", map);
            snprintf(map, sizeof map, "0 %u 1", (unsigned)outer_gid);
            write_id_map(status, "/proc/self/gid_map", map);
        }
        join_cgroups(q, status);
        const char *what = NULL;
        if (q->flags & FLAG_SHARED_NET)
            what = setns(q->net, CLONE_NEWNET) < 0 ? "joining the shared loopback namespace" : NULL;
        else if (q->flags & FLAG_NETWORK)
            what = loopback_up();
        if (what)
            fail(status, ISOLATE_FAILED, what);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            fail(status, ISOLATE_FAILED, "making mounts private");
        /* By path, not fchdir: a descriptor opened before the clone refers to the old mount namespace, and
         * the bind below needs the directory as this namespace sees it. The same directory, checked. */
        struct stat opened, entered;
        if (chdir(q->run_dir) < 0 || stat(".", &entered) < 0 || fstat(dir, &opened) < 0)
            fail(status, ISOLATE_FAILED, "entering the run directory");
        if (opened.st_dev != entered.st_dev || opened.st_ino != entered.st_ino) {
            errno = ESTALE;
            fail(status, ISOLATE_FAILED, "entering the run directory");
        }
        if (mount("runway", q->data_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
            fail(status, ISOLATE_FAILED, "mounting a tmpfs over the data directory");
        /* A runs directory outside the data directory holds the other runs' directories: hidden too. */
        if ((q->flags & FLAG_RUNS) && mount("runway", q->runs_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
            fail(status, ISOLATE_FAILED, "mounting a tmpfs over the runs directory");
        make_path(status, q->run_dir);
        if (mount(".", q->run_dir, NULL, MS_BIND, NULL) < 0)
            fail(status, ISOLATE_FAILED, "binding the run directory back");
        if (chdir(q->run_dir) < 0)
            fail(status, ISOLATE_FAILED, "entering the bound run directory");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            fail(status, ISOLATE_FAILED, "mounting /proc");
    } else {
        join_cgroups(q, status);
        if (fchdir(dir) < 0)
            fail(status, 127, "entering the run directory");
    }
    close(dir);
    if (setsid() < 0)
        fail(status, ISOLATE_FAILED, "setsid");
    char byte;
    while (read(go, &byte, 1) < 0 && errno == EINTR) {
    }
    close(go);
    int early = pending_stop();
    if (early)
        _exit(128 + early); /* stopped before the command started: it never runs */
    if (!(q->flags & FLAG_ISOLATE))
        exec_command(q, status);

    struct sigaction handler;
    memset(&handler, 0, sizeof handler);
    handler.sa_handler = on_stop;
    sigaction(SIGTERM, &handler, NULL);
    sigaction(SIGINT, &handler, NULL);
    sigaction(SIGHUP, &handler, NULL);
    pid_t command = fork();
    if (command < 0)
        fail(status, ISOLATE_FAILED, "fork of the command");
    if (command == 0)
        exec_command(q, status);
    close(status);
    /* A stop that came between the check above and the fork reached only this process: pass it on. */
    int late = pending_stop();
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &stops, NULL);
    if (late)
        kill(command, late);
    for (;;) {
        int st;
        pid_t reaped = wait(&st);
        if (reaped == command)
            _exit(decode(st));
        if (reaped < 0 && errno != EINTR)
            _exit(ISOLATE_FAILED);
    }
}

/* ---- the supervisor's side ---- */

/* The kept namespace of KEY, made on first use (as root: a run account's supervisor); -1 with errno and WHAT. */
static int shared_net(const char *key, const char **what)
{
    int oldest = 0;
    for (int i = 0; i < MAX_SHARED_NETS; i++) {
        if (shared_nets[i].key && strcmp(shared_nets[i].key, key) == 0) {
            shared_nets[i].used = ++net_clock;
            return shared_nets[i].fd;
        }
        if (shared_nets[i].used < shared_nets[oldest].used)
            oldest = i;
    }
    /* Made by this (main) thread for a moment, then back to its own: a namespace is per thread, the writer keeps its. */
    int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own < 0) {
        *what = "opening the supervisor's network namespace";
        return -1;
    }
    int fd = -1;
    if (unshare(CLONE_NEWNET) < 0) {
        *what = "a new network namespace";
    } else {
        *what = loopback_up();
        if (!*what && (fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
            *what = "opening the new network namespace";
        int saved = errno;
        if (setns(own, CLONE_NEWNET) < 0) {
            logf_("could not return to the supervisor's network namespace: %s", strerror(errno));
            _exit(1); /* every later run would inherit the wrong one */
        }
        errno = saved;
    }
    close(own);
    if (fd < 0)
        return -1;
    char *copy = strdup(key);
    if (!copy) {
        close(fd);
        *what = "out of memory";
        return -1;
    }
    if (shared_nets[oldest].key) {
        free(shared_nets[oldest].key);
        close(shared_nets[oldest].fd);
    }
    shared_nets[oldest] = (struct shared_net){copy, fd, ++net_clock};
    return fd;
}

static void reply_failed(struct client *c, uint64_t id, const char *message)
{
    struct out o;
    begin(&o, 'F');
    put(&o, &id, 8);
    uint32_t n = (uint32_t)strlen(message);
    if (n > 2000)
        n = 2000;
    put_u32(&o, n);
    put(&o, message, n);
    send_frame(c, &o);
}

/*
 * The cgroup.kill of a run's v2 cgroup, from the cgroup.procs files it joins; NULL when none has one. Whether one
 * does is the hierarchy's and the kernel's doing, the same for every run under one folder (the node's), so a folder
 * found to have it is remembered: probing each run's cgroups by path cost four access(2) walks through sysfs, a
 * tenth of this process's CPU per run. A folder without it is not remembered (a failed probe may be passing).
 */
static char *kill_file_of(char **cgroups)
{
    static char *known[8]; /* folders whose runs' cgroups have cgroup.kill */
    char kill_file[4096];
    for (int probe = 0; probe < 2; probe++) { /* first the folders already known, then a probe of each */
        for (char **g = cgroups; g && *g; g++) {
            /* .../FOLDER/RUN/cgroup.procs: the run's cgroup ends at the last slash, its folder at the one before. */
            const char *slash = strrchr(*g, '/'), *run = slash;
            while (run && run > *g && run[-1] != '/')
                run--;
            size_t folder = run && run > *g ? (size_t)(run - 1 - *g) : 0;
            if (!folder || snprintf(kill_file, sizeof kill_file, "%.*s/cgroup.kill", (int)(slash - *g), *g) >= (int)sizeof kill_file)
                continue;
            size_t k = 0;
            while (k < sizeof known / sizeof *known && known[k] && !(strlen(known[k]) == folder && memcmp(known[k], *g, folder) == 0))
                k++;
            int is_known = k < sizeof known / sizeof *known && known[k];
            if (!probe ? !is_known : access(kill_file, W_OK) != 0)
                continue;
            if (probe && k < sizeof known / sizeof *known && !known[k])
                known[k] = strndup(*g, folder);
            return strdup(kill_file);
        }
    }
    return NULL;
}

static void start_run(struct client *c, struct request *q)
{
    char message[600];
    if (!q->program || !q->run_dir || !q->argv || !q->envp || !q->argv[0] || q->run_dir[0] != '/'
        || ((q->flags & FLAG_ISOLATE) && (!q->data_dir || q->data_dir[0] != '/'))
        || ((q->flags & FLAG_RUNS) && (!(q->flags & FLAG_ISOLATE) || !q->runs_dir || q->runs_dir[0] != '/'))
        || ((q->flags & FLAG_SHARED_NET) && (!(q->flags & FLAG_NETWORK) || (q->flags & FLAG_USERNS) || !q->net_key))) {
        reply_failed(c, q->id, "malformed start request");
        return;
    }
    if (q->flags & FLAG_SHARED_NET) {
        const char *what = NULL;
        q->net = shared_net(q->net_key, &what);
        if (q->net < 0) {
            snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
            reply_failed(c, q->id, message);
            return;
        }
    }
    int dir = open(q->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) {
        snprintf(message, sizeof message, "the run directory: %s", strerror(errno));
        reply_failed(c, q->id, message);
        return;
    }
    int go[2], status[2];
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(dir);
        reply_failed(c, q->id, "pipe failed");
        return;
    }
    if (pipe2(status, O_CLOEXEC) < 0) {
        close(dir);
        close(go[0]);
        close(go[1]);
        reply_failed(c, q->id, "pipe failed");
        return;
    }
    uid_t uid = geteuid();
    gid_t gid = getegid();
    unsigned long flags = SIGCHLD;
    if (q->flags & FLAG_ISOLATE)
        flags |= CLONE_NEWNS | CLONE_NEWPID | ((q->flags & FLAG_USERNS) ? CLONE_NEWUSER : 0) | ((q->flags & FLAG_NETWORK) && !(q->flags & FLAG_SHARED_NET) ? CLONE_NEWNET : 0);
    /* The raw call: like fork, but the child is the init of a new pid namespace from its first instruction. */
    pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
    if (pid == 0) {
        close(go[1]);
        close(status[0]);
        lead_run(q, dir, go[0], status[1], uid, gid);
    }
    close(go[0]);
    close(status[1]);
    if (pid < 0) {
        snprintf(message, sizeof message, "clone: %s", strerror(errno));
        close(dir);
        close(go[1]);
        close(status[0]);
        reply_failed(c, q->id, message);
        return;
    }
    long long started = start_time(pid);
    char text[32];
    snprintf(text, sizeof text, "%lld", started);
    int written = write_file(dir, "pid_start", text, 0) == 0;
    snprintf(text, sizeof text, "%d\n", (int)pid);
    written = written && write_file(dir, "pid", text, 0) == 0;
    if (written)
        write_all(go[1], "g", 1);
    close(go[1]); /* without the go, the leader ends at once */
    /* Empty at the exec (close-on-exec); else why it failed. */
    size_t got = 0;
    for (;;) {
        ssize_t n = read(status[0], message + got, sizeof message - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof message - 1)
            break;
    }
    close(status[0]);
    message[got] = 0;
    if (got > 0 || !written) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        unlinkat(dir, "pid", 0);
        unlinkat(dir, "pid_start", 0);
        close(dir);
        reply_failed(c, q->id, got > 0 ? message : "could not write the run's pid files");
        return;
    }
    struct run *r = calloc(1, sizeof *r);
    if (!r) {
        kill(-pid, SIGKILL);
        close(dir);
        reply_failed(c, q->id, "out of memory");
        return;
    }
    r->pid = pid;
    r->start = started;
    r->dir = dir;
    r->kill_file = kill_file_of(q->cgroups);
    r->next = runs;
    runs = r;
    run_count++;
    struct out o;
    begin(&o, 'R');
    put(&o, &q->id, 8);
    put_u32(&o, (uint32_t)pid);
    put_i64(&o, started);
    send_frame(c, &o);
}

/* A run's record: rusage, then exit_code last and durably (it says the run is over). */
static void write_record(struct run *r)
{
    char text[32];
    if (r->lease_lapsed) {
        logf_("run %d: ended after its lease lapsed; nothing recorded", (int)r->pid);
        return; /* the taking node decides how it ended */
    }
    if (write_file(r->dir, "rusage", r->usage, 0) < 0)
        logf_("run %d: could not write rusage: %s", (int)r->pid, strerror(errno));
    snprintf(text, sizeof text, "%d\n", r->code);
    if (write_file(r->dir, "exit_code", text, 1) < 0)
        logf_("run %d: could not write exit_code: %s", (int)r->pid, strerror(errno));
}

/* The record writer's thread: takes every record waiting, writes them in the order the runs ended, hands them back. */
static void *record_writer(void *unused)
{
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&records_lock);
        while (!to_write)
            pthread_cond_wait(&records_wake, &records_lock);
        struct run *batch = NULL;
        while (to_write) { /* the list is newest first: reversed */
            struct run *r = to_write;
            to_write = r->queued;
            r->queued = batch;
            batch = r;
        }
        writer_busy = 1;
        pthread_mutex_unlock(&records_lock);
        struct run *last = NULL;
        for (struct run *r = batch; r; r = r->queued) {
            write_record(r);
            last = r;
        }
        pthread_mutex_lock(&records_lock);
        last->queued = written;
        written = batch;
        writer_busy = 0;
        pthread_cond_broadcast(&records_wake);
        pthread_mutex_unlock(&records_lock);
        ssize_t ignored = write(records_pipe[1], "w", 1);
        (void)ignored;
    }
    return NULL;
}

/* The loop's side: the word for every record written, and the run forgotten. */
static void send_written(void)
{
    char drain[64];
    while (read(records_pipe[0], drain, sizeof drain) > 0) {
    }
    pthread_mutex_lock(&records_lock);
    struct run *done = written;
    written = NULL;
    pthread_mutex_unlock(&records_lock);
    while (done) {
        struct run *r = done;
        done = r->queued;
        struct out o;
        begin(&o, 'X');
        put_u32(&o, (uint32_t)r->pid);
        put_i64(&o, r->start);
        put_u32(&o, (uint32_t)r->code);
        send_all(&o);
        for (struct run **p = &runs; *p; p = &(*p)->next) {
            if (*p == r) {
                *p = r->next;
                break;
            }
        }
        run_count--;
        close(r->dir);
        free(r->kill_file);
        free(r);
    }
}

/* Before the supervisor exits: every record handed to the writer is on disk. */
static void drain_records(void)
{
    pthread_mutex_lock(&records_lock);
    while (to_write || writer_busy)
        pthread_cond_wait(&records_wake, &records_lock);
    pthread_mutex_unlock(&records_lock);
}

static void reap(void)
{
    for (;;) {
        int status;
        struct rusage usage;
        pid_t pid = wait4(-1, &status, WNOHANG, &usage);
        if (pid <= 0)
            return;
        /* Not a run's leader: a process a run left that was re-parented here (the child subreaper). */
        for (struct run *r = runs; r; r = r->next) {
            if (r->pid == pid && !r->ended) {
                r->ended = 1;
                r->code = r->lease_lapsed ? -1 : decode(status);
                snprintf(r->usage, sizeof r->usage, "%lld %lld %ld\n",
                    (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec,
                    (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec, usage.ru_maxrss);
                pthread_mutex_lock(&records_lock);
                r->queued = to_write;
                to_write = r;
                pthread_cond_broadcast(&records_wake);
                pthread_mutex_unlock(&records_lock);
                break;
            }
        }
    }
}

/* ---- leases (several nodes): a run whose node stopped renewing its lease must not go on beside its retry ---- */

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int renew_leases(struct reader *r)
{
    long long until = now_ms() + get_u32(r);
    for (uint32_t n = get_u32(r); n > 0 && !r->bad; n--) {
        pid_t pid = (pid_t)get_u32(r);
        long long start = (long long)get_u64(r);
        for (struct run *x = runs; x; x = x->next)
            if (x->pid == pid && x->start == start)
                x->lease_ms = until;
    }
    return r->bad || r->p != r->end ? -1 : 0;
}

/* Kills, whole, each run whose lease lapsed; returns the ms until the next lapses (-1: none is due). */
static int enforce_leases(void)
{
    long long now = now_ms(), next = -1;
    for (struct run *x = runs; x; x = x->next) {
        if (x->lease_ms == 0 || x->lease_lapsed || x->ended)
            continue;
        if (now < x->lease_ms) {
            if (next < 0 || x->lease_ms - now < next)
                next = x->lease_ms - now;
            continue;
        }
        logf_("run %d: its lease lapsed (its node stopped renewing it): killing it", (int)x->pid);
        x->lease_lapsed = 1;
        int fd = x->kill_file ? open(x->kill_file, O_WRONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            if (write(fd, "1", 1) < 0)
                logf_("run %d: cgroup.kill: %s", (int)x->pid, strerror(errno));
            close(fd);
        }
        kill(-x->pid, SIGKILL);
        kill(x->pid, SIGKILL);
    }
    return next < 0 ? -1 : next > 60000 ? 60000 : (int)next + 1;
}

static void handle_frame(struct client *c, const unsigned char *data, size_t size)
{
    struct reader r = {data, data + size, 0};
    if (size >= 1 && data[0] == 'L') {
        r.p++;
        if (renew_leases(&r) < 0)
            drop_client(c);
        return;
    }
    if (size < 1 || data[0] != 'S') {
        drop_client(c);
        return;
    }
    r.p++;
    struct request q;
    memset(&q, 0, sizeof q);
    q.id = get_u64(&r);
    q.flags = get_u32(&r);
    q.uid = get_u32(&r);
    q.gid = get_u32(&r);
    q.data_dir = get_str(&r);
    q.run_dir = get_str(&r);
    q.program = get_str(&r);
    q.argv = get_strs(&r);
    q.envp = get_strs(&r);
    q.cgroups = get_strs(&r);
    if (q.flags & FLAG_RUNS)
        q.runs_dir = get_str(&r);
    if (q.flags & FLAG_SHARED_NET) {
        q.net_key = get_str(&r);
        if (q.net_key && strlen(q.net_key) > 512)
            r.bad = 1;
    }
    if (r.bad || r.p != r.end)
        reply_failed(c, q.id, "malformed start request");
    else
        start_run(c, &q);
    free_request(&q);
}

static void read_client(struct client *c)
{
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 131072;
        if (cap > MAX_FRAME + 65536 + 4) {
            drop_client(c);
            return;
        }
        unsigned char *grown = realloc(c->buf, cap);
        if (!grown) {
            drop_client(c);
            return;
        }
        c->buf = grown;
        c->cap = cap;
    }
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        drop_client(c);
        return;
    }
    c->len += (size_t)n;
    size_t used = 0;
    while (c->fd >= 0 && c->len - used >= 4) {
        uint32_t length;
        memcpy(&length, c->buf + used, 4);
        if (length > MAX_FRAME) {
            drop_client(c);
            return;
        }
        if (c->len - used - 4 < length)
            break;
        handle_frame(c, c->buf + used + 4, length);
        used += 4 + length;
    }
    if (c->fd >= 0) {
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
}

static void accept_client(int listener)
{
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    /* Only the server's own user (the socket is 0600 in a 0700 directory as well). */
    struct ucred peer;
    socklen_t size = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) < 0 || peer.uid != geteuid()) {
        close(fd);
        return;
    }
    /* A server that stops reading (stopped, wedged) must not stall this loop, and with it every run's
       reaping and exit record: a write to it that makes no progress for 10 s drops that server. */
    struct timeval limit = {10, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0) {
        close(fd);
        return;
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0) {
            clients[i].fd = fd;
            struct out o;
            begin(&o, 'H');
            uint32_t count = 0;
            size_t at = o.len;
            put_u32(&o, 0);
            for (struct run *r = runs; r && o.len + 12 <= sizeof o.data; r = r->next, count++) {
                put_u32(&o, (uint32_t)r->pid);
                put_i64(&o, r->start);
            }
            memcpy(o.data + at, &count, 4);
            send_frame(&clients[i], &o);
            return;
        }
    }
    close(fd);
}

static int connected(void)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: runway-supervisor SOCKET LOG\n");
        return 2;
    }
    const char *path = argv[1];
    int log = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log >= 0) {
        dup2(log, 2);
        close(log);
    }
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) {
        logf_("the socket path is too long: %s", path);
        return 2;
    }
    strcpy(address.sun_path, path);

    /* One supervisor per socket: the lock is held for life. */
    char lock_path[sizeof address.sun_path + 8];
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    umask(077);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
        logf_("another supervisor holds %s", lock_path);
        return 3;
    }

    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    /* Blocked here and so in every run's leader until it sets handlers (see lead_run). */
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGCHLD);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    int signals = signalfd(-1, &blocked, SFD_CLOEXEC | SFD_NONBLOCK);
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    unlink(path);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || chmod(path, 0600) < 0
        || listen(listener, 16) < 0 || signals < 0) {
        logf_("could not listen on %s: %s", path, strerror(errno));
        return 1;
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    pthread_t writer;
    if (pipe2(records_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pthread_create(&writer, NULL, record_writer, NULL) != 0) {
        logf_("could not start the record writer: %s", strerror(errno));
        return 1;
    }

    int ever_connected = 0;
    for (;;) {
        /* Nothing to do once no server is connected and no run is left (a server that stops for good). */
        if (ever_connected && !connected() && run_count == 0)
            break;
        struct pollfd fds[MAX_CLIENTS + 3];
        int slots[MAX_CLIENTS];
        int count = 0;
        fds[count++] = (struct pollfd){listener, POLLIN, 0};
        fds[count++] = (struct pollfd){signals, POLLIN, 0};
        fds[count++] = (struct pollfd){records_pipe[0], POLLIN, 0};
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd >= 0) {
                slots[count - 3] = i;
                fds[count++] = (struct pollfd){clients[i].fd, POLLIN, 0};
            }
        }
        int due = enforce_leases();
        int ready = poll(fds, (nfds_t)count, ever_connected ? due : FIRST_CONNECT_MS);
        if (ready == 0 && run_count == 0)
            break; /* started, but nobody came */
        if (ready < 0)
            continue;
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            int quit = 0;
            while (read(signals, &info, sizeof info) == sizeof info)
                if (info.ssi_signo != SIGCHLD)
                    quit = 1;
            reap();
            if (quit) {
                drain_records();
                send_written();
                break; /* the runs go on, unsupervised; a server watches them through /proc */
            }
        }
        if (fds[2].revents & POLLIN)
            send_written();
        for (int i = 3; i < count; i++)
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
                read_client(&clients[slots[i - 3]]);
        if (fds[0].revents & POLLIN) {
            accept_client(listener);
            ever_connected = 1;
        }
    }
    unlink(path);
    return 0;
}
