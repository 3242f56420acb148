/* `agent`: the host's hands inside the guest, over a virtio-serial port.
 *
 * Requests from the host, one per line (the command is the rest of the line, so it needs no quoting):
 *   spawn <id> <shell command>      run `/bin/sh -c <command>` in its own session
 *   kill <id> <handle> <signal>     signal a spawned command's process group (signal number)
 *   clock <id>                      the guest's CLOCK_MONOTONIC and CLOCK_REALTIME, in microseconds
 * Answers and events, one JSON object per line, shaped like the Mininet agent's:
 *   {"id": 1, "ok": true, "handle": 3, "pid": 120}          {"id": 1, "ok": false, "error": "..."}
 *   {"event": "line", "handle": 3, "stream": "stdout", "line": "..."}
 *   {"event": "exit", "handle": 3, "code": 0}   or   {"event": "exit", "handle": 3, "code": null, "signal": "SIGTERM"}
 *   {"event": "ready", "version": 1}            once, when the agent starts
 *
 * The port is non-blocking: while no host is connected (between the source QEMU's socket and the
 * destination's during a live migration) virtio-console reports POLLHUP and refuses writes, so
 * answers wait in a queue and the port is looked at again every 20 ms; nothing is lost, and
 * commands keep running and their output keeps being collected meanwhile. */
#define _GNU_SOURCE /* pipe2, sigabbrev_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define MAX_CHILDREN 64
#define HOST_AWAY_RECHECK_MS 20
#define MAX_LINE (32 << 20)

struct output {
  int fd; /* -1 once at EOF */
  struct buf partial;
};

struct child {
  int handle; /* 0: free slot */
  pid_t pid;
  struct output streams[2]; /* stdout, stderr */
  int reaped;
  int status;
};

struct agent {
  int port;
  int skip_port; /* the host is away: leave the port out of the next poll */
  struct buf in, out;
  struct child children[MAX_CHILDREN];
  int next_handle;
};

static int sigchld_pipe[2];
static const char *const STREAM_NAMES[2] = {"stdout", "stderr"};

static void on_sigchld(int signal_number) {
  (void)signal_number;
  int saved = errno;
  (void)!write(sigchld_pipe[1], "c", 1);
  errno = saved;
}

static void answer_error(struct agent *a, long id, const char *error) {
  buf_printf(&a->out, "{\"id\": %ld, \"ok\": false, \"error\": ", id);
  buf_json_string(&a->out, error, strlen(error));
  buf_puts(&a->out, "}\n");
}

static void emit_line(struct agent *a, int handle, int stream, const char *line, size_t len) {
  buf_printf(&a->out, "{\"event\": \"line\", \"handle\": %d, \"stream\": \"%s\", \"line\": ", handle, STREAM_NAMES[stream]);
  buf_json_string(&a->out, line, len);
  buf_puts(&a->out, "}\n");
}

static void spawn(struct agent *a, long id, const char *command) {
  struct child *slot = NULL;
  for (int i = 0; i < MAX_CHILDREN && !slot; i++) if (!a->children[i].handle) slot = &a->children[i];
  int pipes[2][2];
  if (!slot) {
    answer_error(a, id, "too many commands running");
    return;
  }
  if (pipe2(pipes[0], O_CLOEXEC) < 0) {
    answer_error(a, id, strerror(errno));
    return;
  }
  if (pipe2(pipes[1], O_CLOEXEC) < 0) {
    close(pipes[0][0]);
    close(pipes[0][1]);
    answer_error(a, id, strerror(errno));
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(pipes[0][1], 1);
    dup2(pipes[1][1], 2);
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
  }
  close(pipes[0][1]);
  close(pipes[1][1]);
  if (pid < 0) {
    close(pipes[0][0]);
    close(pipes[1][0]);
    answer_error(a, id, strerror(errno));
    return;
  }
  *slot = (struct child){.handle = ++a->next_handle, .pid = pid};
  for (int s = 0; s < 2; s++) {
    slot->streams[s].fd = pipes[s][0];
    fcntl(pipes[s][0], F_SETFL, O_NONBLOCK);
  }
  buf_printf(&a->out, "{\"id\": %ld, \"ok\": true, \"handle\": %d, \"pid\": %d}\n", id, slot->handle, (int)pid);
}

static void signal_child(struct agent *a, long id, const char *args) {
  int handle = 0, signal_number = 0;
  if (sscanf(args, "%d %d", &handle, &signal_number) != 2 || signal_number < 1 || signal_number > 64) {
    answer_error(a, id, "kill needs a handle and a signal number");
    return;
  }
  for (int i = 0; i < MAX_CHILDREN; i++) {
    struct child *c = &a->children[i];
    if (c->handle != handle) continue;
    int alive = !c->reaped;
    /* The group outlives its leader when the command started others; signal it either way. */
    kill(-c->pid, signal_number);
    buf_printf(&a->out, "{\"id\": %ld, \"ok\": true, \"alive\": %s}\n", id, alive ? "true" : "false");
    return;
  }
  buf_printf(&a->out, "{\"id\": %ld, \"ok\": true, \"alive\": false}\n", id);
}

static void answer_clock(struct agent *a, long id) {
  struct timespec mono, real;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  buf_printf(&a->out, "{\"id\": %ld, \"ok\": true, \"monotonicUs\": %lld, \"realtimeUs\": %lld}\n", id,
             (long long)mono.tv_sec * 1000000 + mono.tv_nsec / 1000,
             (long long)real.tv_sec * 1000000 + real.tv_nsec / 1000);
}

/* "<op> <id>[ <rest>]" */
static void handle_request(struct agent *a, char *line) {
  char *op = line;
  char *id_text = strchr(line, ' ');
  if (!id_text) { answer_error(a, -1, "request without an id"); return; }
  *id_text++ = '\0';
  char *rest = strchr(id_text, ' ');
  if (rest) *rest++ = '\0';
  char *end;
  long id = strtol(id_text, &end, 10);
  if (*end != '\0') { answer_error(a, -1, "request id is not a number"); return; }
  if (strcmp(op, "spawn") == 0 && rest && *rest) { spawn(a, id, rest); return; }
  if (strcmp(op, "kill") == 0 && rest) { signal_child(a, id, rest); return; }
  if (strcmp(op, "clock") == 0) { answer_clock(a, id); return; }
  answer_error(a, id, "unknown request (spawn, kill, clock)");
}

static void take_requests(struct agent *a) {
  char *newline;
  while ((newline = memchr(a->in.data, '\n', a->in.len)) != NULL) {
    size_t len = (size_t)(newline - a->in.data);
    *newline = '\0';
    if (len > 0 && a->in.data[len - 1] == '\r') a->in.data[len - 1] = '\0';
    if (a->in.data[0]) handle_request(a, a->in.data);
    buf_consume(&a->in, len + 1);
  }
  if (a->in.len > MAX_LINE) {
    answer_error(a, -1, "request line too long");
    a->in.len = 0;
  }
}

static void read_port(struct agent *a, short revents) {
  char chunk[4096];
  ssize_t n = read(a->port, chunk, sizeof chunk);
  if (n > 0) {
    buf_put(&a->in, chunk, (size_t)n);
    take_requests(a);
  } else if (revents & POLLHUP) {
    a->skip_port = 1; /* no host: read() says EOF until one connects */
  }
}

static void flush_port(struct agent *a) {
  while (a->out.len > 0) {
    ssize_t n = write(a->port, a->out.data, a->out.len);
    if (n <= 0) return; /* EAGAIN: no host, or the queue to it is full; POLLOUT tells when */
    buf_consume(&a->out, (size_t)n);
  }
}

static void read_output(struct agent *a, struct child *c, int s) {
  struct output *o = &c->streams[s];
  char chunk[65536];
  ssize_t n;
  while ((n = read(o->fd, chunk, sizeof chunk)) > 0) {
    buf_put(&o->partial, chunk, (size_t)n);
    char *newline;
    while ((newline = memchr(o->partial.data, '\n', o->partial.len)) != NULL) {
      size_t len = (size_t)(newline - o->partial.data);
      emit_line(a, c->handle, s, o->partial.data, len);
      buf_consume(&o->partial, len + 1);
    }
    if (o->partial.len > MAX_LINE) {
      emit_line(a, c->handle, s, o->partial.data, o->partial.len);
      o->partial.len = 0;
    }
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    if (o->partial.len) emit_line(a, c->handle, s, o->partial.data, o->partial.len);
    buf_free(&o->partial);
    close(o->fd);
    o->fd = -1;
  }
}

static void reap(struct agent *a) {
  char drain[64];
  while (read(sigchld_pipe[0], drain, sizeof drain) > 0) {}
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_CHILDREN; i++) {
      if (a->children[i].handle && a->children[i].pid == pid) {
        a->children[i].reaped = 1;
        a->children[i].status = status;
      }
    }
  }
}

/* A command has ended once it is reaped and both of its outputs are read to the end. */
static void report_exits(struct agent *a) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    struct child *c = &a->children[i];
    if (!c->handle || !c->reaped || c->streams[0].fd >= 0 || c->streams[1].fd >= 0) continue;
    if (WIFEXITED(c->status)) {
      buf_printf(&a->out, "{\"event\": \"exit\", \"handle\": %d, \"code\": %d}\n", c->handle, WEXITSTATUS(c->status));
    } else {
      buf_printf(&a->out, "{\"event\": \"exit\", \"handle\": %d, \"code\": null, \"signal\": \"SIG%s\"}\n", c->handle,
                 sigabbrev_np(WTERMSIG(c->status)) ? sigabbrev_np(WTERMSIG(c->status)) : "UNKNOWN");
    }
    c->handle = 0;
  }
}

static void run(struct agent *a) {
  for (;;) {
    struct pollfd fds[2 + 2 * MAX_CHILDREN];
    struct {
      struct child *child;
      int stream;
    } owners[2 + 2 * MAX_CHILDREN];
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = sigchld_pipe[0], .events = POLLIN};
    int port_index = -1;
    if (!a->skip_port) {
      port_index = (int)n;
      fds[n++] = (struct pollfd){.fd = a->port, .events = (short)(POLLIN | (a->out.len ? POLLOUT : 0))};
    }
    for (int i = 0; i < MAX_CHILDREN; i++) {
      for (int s = 0; s < 2; s++) {
        if (!a->children[i].handle || a->children[i].streams[s].fd < 0) continue;
        owners[n].child = &a->children[i];
        owners[n].stream = s;
        fds[n++] = (struct pollfd){.fd = a->children[i].streams[s].fd, .events = POLLIN};
      }
    }
    int was_skipping = a->skip_port;
    a->skip_port = 0;
    if (poll(fds, n, was_skipping ? HOST_AWAY_RECHECK_MS : -1) < 0 && errno != EINTR) {
      perror("seamless-guest agent: poll");
      return;
    }
    if (fds[0].revents) reap(a);
    if (port_index >= 0 && (fds[port_index].revents & (POLLIN | POLLHUP))) read_port(a, fds[port_index].revents);
    for (nfds_t i = 0; i < n; i++) {
      if (i == 0 || (int)i == port_index || !fds[i].revents) continue;
      read_output(a, owners[i].child, owners[i].stream);
    }
    report_exits(a);
    if (!a->skip_port) flush_port(a);
  }
}

/* The virtio-serial port named `name`: /sys/class/virtio-ports/vportNpM/name -> /dev/vportNpM. */
static int open_port(const char *name) {
  char path[128], found[64];
  for (int dev = 0; dev < 8; dev++) {
    for (int port = 0; port < 32; port++) {
      snprintf(path, sizeof path, "/sys/class/virtio-ports/vport%dp%d/name", dev, port);
      FILE *file = fopen(path, "r");
      if (!file) continue;
      int match = fgets(found, sizeof found, file) && strncmp(found, name, strlen(name)) == 0;
      fclose(file);
      if (!match) continue;
      snprintf(path, sizeof path, "/dev/vport%dp%d", dev, port);
      return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    }
  }
  errno = ENOENT;
  return -1;
}

int agent_main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "org.seamless.control";
  struct agent a = {.port = open_port(name)};
  if (a.port < 0) {
    fprintf(stderr, "seamless-guest agent: no virtio-serial port named %s: %s\n", name, strerror(errno));
    return 1;
  }
  if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction chld = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
  sigaction(SIGCHLD, &chld, NULL);
  buf_puts(&a.out, "{\"event\": \"ready\", \"version\": 1}\n");
  run(&a);
  return 1;
}
