/*
 * samsa_sendfile: the few system calls Samsa's zero-copy fetch path needs, for Linux.
 *
 * Everything here is a thin wrapper that runs on the JS thread (sendfileAsync and prefetch:
 * on the thread pool); the policy
 * (when a call is allowed, what happens on EAGAIN, ordering against Node's own write queue)
 * lives in src/server/zero-copy-sender.ts. The functions never block on the network: the
 * sockets Node hands out are O_NONBLOCK, and a dup() of one shares that flag.
 *
 * Exports (errors come back as negative errno values, never as exceptions):
 *   init(onWritable)          creates one epoll set, watched by one uv_poll handle (unref'd);
 *                             onWritable(ids: number[]) is called when watched fds can write
 *   dup(fd)                   F_DUPFD_CLOEXEC copy of a socket fd; the caller owns it
 *   close(fd)                 removes fd from the epoll set, then closes it
 *   watch(fd, id)             one-shot EPOLLOUT interest for fd, reported as id
 *   sendfile(out, in, pos, n) sendfile(2) until n bytes, EAGAIN or end of file: bytes sent
 *                             (0 = end of file), or -errno when nothing was sent
 *   sendfileAsync(out, in, pos, n, cb)  the same on libuv's thread pool, cb(result) on the JS
 *                             thread; 0 when queued (the caller keeps both fds open until cb)
 *   writev(fd, buffers, skip) writev(2) of the buffers minus `skip` leading bytes, until all
 *                             or EAGAIN: bytes written, or -errno when nothing was written
 *   resident(fd, pos, n)      1 if every page of the range is in the page cache, 0 if not,
 *                             -errno if that cannot be told (cachestat(2), else mmap + mincore)
 *   preadNoWait(fd, buf, off, n, pos)  preadv2(RWF_NOWAIT): bytes read, or -EAGAIN when the
 *                             data is not cached (the caller then reads off the JS thread)
 *   prefetch(fd, pos, n, cb)  on libuv's thread pool: readahead(2), then waits for every page
 *                             of the range to be cached; cb(-errno or 0) on the JS thread
 *
 * libuv allows one watcher per fd, and the socket's fd already has Node's: the epoll set
 * holds dup()s of sockets and is itself the only fd the uv_poll handle watches. Events are
 * keyed by the caller's id (epoll_data.u64), never by fd number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

#define MAX_EVENTS 64
#define MAX_IOV 64
/* Linux transfers at most 0x7ffff000 bytes per sendfile/writev call. */
#define MAX_CHUNK 0x7ffff000L

typedef struct {
  napi_env env;
  int epfd;
  uv_poll_t *poll; /* freed in its close callback */
  napi_ref callback;
  napi_async_context async_context;
  napi_ref resource;
} state_t;

#define CHECK(call)                                    \
  do {                                                 \
    if ((call) != napi_ok) return throw_last(env);    \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "N-API call failed");
  return NULL;
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
  return out;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, state_t **state) {
  size_t argc = want;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  if (state) *state = (state_t *)data;
  return 0;
}

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return -1;
  }
  return 0;
}

/* ---- the epoll set and its uv_poll watcher ---- */

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  state_t *st = (state_t *)handle->data;
  if (st == NULL || st->callback == NULL) return;
  struct epoll_event evs[MAX_EVENTS];
  napi_env env = st->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value ids;
  if (napi_create_array(env, &ids) != napi_ok) goto done;
  uint32_t count = 0;
  if (status == 0) {
    for (;;) {
      int n = epoll_wait(st->epfd, evs, MAX_EVENTS, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (int i = 0; i < n; i++) {
        napi_value id;
        if (napi_create_double(env, (double)evs[i].data.u64, &id) != napi_ok) goto done;
        if (napi_set_element(env, ids, count++, id) != napi_ok) goto done;
      }
      if (n < MAX_EVENTS) break;
    }
  }
  if (count > 0) {
    napi_value fn, recv, result;
    if (napi_get_reference_value(env, st->callback, &fn) != napi_ok) goto done;
    if (napi_get_global(env, &recv) != napi_ok) goto done; /* make_callback wants an object */
    /* make_callback (not call_function): runs the microtask queue and nextTicks afterwards,
       as for any callback Node itself delivers from the event loop. */
    if (napi_make_callback(env, st->async_context, recv, fn, 1, &ids, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
      }
    }
  }
done:
  napi_close_handle_scope(env, scope);
}

static void on_poll_closed(uv_handle_t *handle) { free(handle); }

static void cleanup_state(void *arg) {
  state_t *st = (state_t *)arg;
  if (st->poll != NULL) {
    st->poll->data = NULL;
    uv_poll_stop(st->poll);
    uv_close((uv_handle_t *)st->poll, on_poll_closed);
    st->poll = NULL;
  }
  if (st->epfd >= 0) close(st->epfd);
  st->epfd = -1;
}

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *st = (state_t *)data;
  cleanup_state(st);
  free(st);
}

static napi_value js_init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  state_t *st;
  if (get_args(env, info, 1, argv, &st) != 0) return NULL;
  if (st->epfd >= 0) {
    napi_throw_error(env, NULL, "init called twice");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return make_int(env, -errno);
  uv_poll_t *poll = (uv_poll_t *)calloc(1, sizeof(uv_poll_t));
  if (poll == NULL) {
    close(epfd);
    return make_int(env, -ENOMEM);
  }
  int rc = uv_poll_init(loop, poll, epfd);
  if (rc != 0) {
    free(poll);
    close(epfd);
    return make_int(env, rc);
  }
  poll->data = st;
  rc = uv_poll_start(poll, UV_READABLE, on_poll);
  if (rc != 0) {
    uv_close((uv_handle_t *)poll, on_poll_closed);
    close(epfd);
    return make_int(env, rc);
  }
  /* The sockets being written keep the process alive; this watcher must not. */
  uv_unref((uv_handle_t *)poll);
  st->epfd = epfd;
  st->poll = poll;
  CHECK(napi_create_reference(env, argv[0], 1, &st->callback));
  napi_value resource, name;
  CHECK(napi_create_object(env, &resource));
  CHECK(napi_create_string_utf8(env, "SamsaSendfileWritable", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, resource, name, &st->async_context));
  CHECK(napi_create_reference(env, resource, 1, &st->resource));
  return make_int(env, 0);
}

static napi_value js_dup(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t fd;
  if (get_args(env, info, 1, argv, NULL) != 0 || get_i64(env, argv[0], &fd) != 0) return NULL;
  int out = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
  return make_int(env, out < 0 ? -errno : out);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  state_t *st;
  int64_t fd;
  if (get_args(env, info, 1, argv, &st) != 0 || get_i64(env, argv[0], &fd) != 0) return NULL;
  /* Remove before closing: the fd number may be reused by the next open(). ENOENT (never
     watched) is the common case and harmless. */
  if (st->epfd >= 0) epoll_ctl(st->epfd, EPOLL_CTL_DEL, (int)fd, NULL);
  int rc = close((int)fd);
  return make_int(env, rc < 0 ? -errno : 0);
}

static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  state_t *st;
  int64_t fd, id;
  if (get_args(env, info, 2, argv, &st) != 0 || get_i64(env, argv[0], &fd) != 0 || get_i64(env, argv[1], &id) != 0)
    return NULL;
  if (st->epfd < 0) return make_int(env, -EBADF);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLOUT | EPOLLONESHOT;
  ev.data.u64 = (uint64_t)id;
  /* A one-shot registration stays in the set, disabled, after it fired: re-arm with MOD. */
  int rc = epoll_ctl(st->epfd, EPOLL_CTL_MOD, (int)fd, &ev);
  if (rc < 0 && errno == ENOENT) rc = epoll_ctl(st->epfd, EPOLL_CTL_ADD, (int)fd, &ev);
  return make_int(env, rc < 0 ? -errno : 0);
}

/* sendfile(2) until len bytes, EAGAIN or end of file: bytes sent, or -errno when none were. */
static int64_t sendfile_range(int out_fd, int in_fd, int64_t pos, int64_t len) {
  off_t off = (off_t)pos;
  int64_t total = 0;
  while (total < len) {
    int64_t want = len - total;
    if (want > MAX_CHUNK) want = MAX_CHUNK;
    ssize_t n = sendfile(out_fd, in_fd, &off, (size_t)want);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n == 0) break; /* end of file: the segment is shorter than the region */
    if (errno == EINTR) continue;
    if (total > 0) break; /* report progress now; the error (EAGAIN or other) repeats */
    return -errno;
  }
  return total;
}

static napi_value js_sendfile(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t out_fd, in_fd, pos, len;
  if (get_args(env, info, 4, argv, NULL) != 0 || get_i64(env, argv[0], &out_fd) != 0 ||
      get_i64(env, argv[1], &in_fd) != 0 || get_i64(env, argv[2], &pos) != 0 || get_i64(env, argv[3], &len) != 0)
    return NULL;
  if (pos < 0 || len < 0) return make_int(env, -EINVAL);
  return make_int(env, sendfile_range((int)out_fd, (int)in_fd, pos, len));
}

/* Completion of a thread-pool job: calls `callback(value)` on the JS thread (an exception
   there is fatal, as for any callback), then releases the callback and the work. */
static void finish_job(napi_env env, napi_ref callback, napi_async_work work, int64_t value) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value fn, recv, arg, result;
    if (napi_get_reference_value(env, callback, &fn) == napi_ok && napi_get_undefined(env, &recv) == napi_ok &&
        napi_create_int64(env, value, &arg) == napi_ok) {
      /* Async-work completions run inside a callback scope: call_function suffices. */
      if (napi_call_function(env, recv, fn, 1, &arg, &result) != napi_ok) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) {
          napi_value exc;
          napi_get_and_clear_last_exception(env, &exc);
          napi_fatal_exception(env, exc);
        }
      }
    }
    napi_close_handle_scope(env, scope);
  }
  napi_delete_reference(env, callback);
  napi_delete_async_work(env, work);
}

/* Queues `execute` on libuv's thread pool and `complete` (which calls finish_job) after it on the
   JS thread, holding the JS callback `cb` in *callback. Non-zero when nothing was queued: the
   N-API error is thrown, whatever was created is released, and the caller frees `data`. */
static int queue_job(napi_env env, napi_value cb, const char *name, napi_async_execute_callback execute,
                     napi_async_complete_callback complete, void *data, napi_ref *callback, napi_async_work *work) {
  napi_value resource_name;
  *callback = NULL;
  *work = NULL;
  if (napi_create_reference(env, cb, 1, callback) == napi_ok &&
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) == napi_ok &&
      napi_create_async_work(env, NULL, resource_name, execute, complete, data, work) == napi_ok &&
      napi_queue_async_work(env, *work) == napi_ok)
    return 0;
  throw_last(env); /* before the releases below replace the last error */
  if (*work != NULL) napi_delete_async_work(env, *work);
  if (*callback != NULL) napi_delete_reference(env, *callback);
  return -1;
}

/* sendfileAsync: the same call on libuv's thread pool (the caller keeps both fds open until cb). */
typedef struct {
  napi_async_work work;
  napi_ref callback;
  int out_fd;
  int in_fd;
  int64_t pos;
  int64_t len;
  int64_t result;
} sendfile_job_t;

static void sendfile_execute(napi_env env, void *data) {
  (void)env;
  sendfile_job_t *j = (sendfile_job_t *)data;
  j->result = sendfile_range(j->out_fd, j->in_fd, j->pos, j->len);
}

static void sendfile_complete(napi_env env, napi_status status, void *data) {
  sendfile_job_t *j = (sendfile_job_t *)data;
  finish_job(env, j->callback, j->work, status == napi_ok ? j->result : -ECANCELED);
  free(j);
}

static napi_value js_sendfile_async(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t out_fd, in_fd, pos, len;
  if (get_args(env, info, 5, argv, NULL) != 0 || get_i64(env, argv[0], &out_fd) != 0 ||
      get_i64(env, argv[1], &in_fd) != 0 || get_i64(env, argv[2], &pos) != 0 || get_i64(env, argv[3], &len) != 0)
    return NULL;
  if (pos < 0 || len < 0) return make_int(env, -EINVAL);
  sendfile_job_t *j = (sendfile_job_t *)calloc(1, sizeof(sendfile_job_t));
  if (j == NULL) return make_int(env, -ENOMEM);
  j->out_fd = (int)out_fd;
  j->in_fd = (int)in_fd;
  j->pos = pos;
  j->len = len;
  if (queue_job(env, argv[4], "SamsaSendfile", sendfile_execute, sendfile_complete, j, &j->callback, &j->work) != 0) {
    free(j);
    return NULL;
  }
  return make_int(env, 0);
}

static napi_value js_writev(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, skip;
  if (get_args(env, info, 3, argv, NULL) != 0 || get_i64(env, argv[0], &fd) != 0 || get_i64(env, argv[2], &skip) != 0)
    return NULL;
  uint32_t count;
  CHECK(napi_get_array_length(env, argv[1], &count));
  struct iovec small[MAX_IOV];
  struct iovec *bufs = count <= MAX_IOV ? small : (struct iovec *)malloc(sizeof(struct iovec) * count);
  if (bufs == NULL) return make_int(env, -ENOMEM);
  /* The unsent part of the buffers, in order: drop `skip` leading bytes and empty buffers. */
  uint32_t n_bufs = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    void *data;
    size_t size;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok || napi_get_buffer_info(env, el, &data, &size) != napi_ok) {
      if (bufs != small) free(bufs);
      return throw_last(env);
    }
    if (skip >= (int64_t)size) {
      skip -= (int64_t)size;
      continue;
    }
    bufs[n_bufs].iov_base = (char *)data + skip;
    bufs[n_bufs].iov_len = size - (size_t)skip;
    skip = 0;
    n_bufs++;
  }
  int64_t total = 0;
  uint32_t first = 0;
  int64_t result = 0;
  while (first < n_bufs) {
    int iovcnt = (int)(n_bufs - first < MAX_IOV ? n_bufs - first : MAX_IOV);
    ssize_t n = writev((int)fd, bufs + first, iovcnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = total > 0 ? total : -errno;
      goto out;
    }
    total += n;
    /* advance past what was written; a partial iovec is trimmed in place */
    size_t left = (size_t)n;
    while (first < n_bufs && left >= bufs[first].iov_len) {
      left -= bufs[first].iov_len;
      first++;
    }
    if (left > 0) {
      bufs[first].iov_base = (char *)bufs[first].iov_base + left;
      bufs[first].iov_len -= left;
    }
  }
  result = total;
out:
  if (bufs != small) free(bufs);
  return make_int(env, result);
}

/* cachestat(2), Linux 6.5+: counts cached pages of a file range without mapping it. Older C
   libraries and headers do not know it; the number is the same on every architecture. */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct samsa_cachestat_range {
  uint64_t off;
  uint64_t len;
};
struct samsa_cachestat {
  uint64_t nr_cache;
  uint64_t nr_dirty;
  uint64_t nr_writeback;
  uint64_t nr_evicted;
  uint64_t nr_recently_evicted;
};
static int cachestat_missing = 0;

/* 1 cached, 0 not, -1 cannot tell with cachestat (then mincore decides). */
static int resident_cachestat(int fd, int64_t pos, int64_t len, long page) {
  if (cachestat_missing) return -1;
  struct samsa_cachestat_range range = {(uint64_t)pos, (uint64_t)len};
  struct samsa_cachestat cs;
  memset(&cs, 0, sizeof cs);
  if (syscall(__NR_cachestat, fd, &range, &cs, 0) != 0) {
    if (errno == ENOSYS) cachestat_missing = 1;
    return -1;
  }
  uint64_t pages = (uint64_t)((pos + len - 1) / page - pos / page + 1);
  return cs.nr_cache >= pages ? 1 : 0;
}

static napi_value js_resident(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, pos, len;
  if (get_args(env, info, 3, argv, NULL) != 0 || get_i64(env, argv[0], &fd) != 0 || get_i64(env, argv[1], &pos) != 0 ||
      get_i64(env, argv[2], &len) != 0)
    return NULL;
  if (len <= 0) return make_int(env, 1);
  long page = sysconf(_SC_PAGESIZE);
  int fast = resident_cachestat((int)fd, pos, len, page);
  if (fast >= 0) return make_int(env, fast);
  int64_t start = pos - (pos % page);
  size_t span = (size_t)(pos + len - start);
  void *map = mmap(NULL, span, PROT_READ, MAP_SHARED, (int)fd, (off_t)start);
  if (map == MAP_FAILED) return make_int(env, -errno);
  size_t pages = (span + (size_t)page - 1) / (size_t)page;
  unsigned char small[4096];
  unsigned char *vec = pages <= sizeof small ? small : (unsigned char *)malloc(pages);
  int result;
  if (vec == NULL) {
    result = -ENOMEM;
  } else if (mincore(map, span, vec) != 0) {
    result = -errno;
  } else {
    result = 1;
    for (size_t i = 0; i < pages; i++) {
      if (!(vec[i] & 1)) {
        result = 0;
        break;
      }
    }
  }
  if (vec != NULL && vec != small) free(vec);
  munmap(map, span);
  return make_int(env, result);
}

static napi_value js_pread_nowait(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t fd, off, len, pos;
  if (get_args(env, info, 5, argv, NULL) != 0 || get_i64(env, argv[0], &fd) != 0 || get_i64(env, argv[2], &off) != 0 ||
      get_i64(env, argv[3], &len) != 0 || get_i64(env, argv[4], &pos) != 0)
    return NULL;
  void *data;
  size_t size;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &size));
  if (off < 0 || len < 0 || (uint64_t)(off + len) > size) return make_int(env, -EINVAL);
  struct iovec iov = {(char *)data + off, (size_t)len};
  for (;;) {
    ssize_t n = preadv2((int)fd, &iov, 1, (off_t)pos, RWF_NOWAIT);
    if (n >= 0) return make_int(env, n);
    if (errno == EINTR) continue;
    /* Kernels or file systems without RWF_NOWAIT: let the caller take the thread-pool path. */
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) return make_int(env, -EAGAIN);
    return make_int(env, -errno);
  }
}

/* ---- prefetch: bring a file range into the page cache on libuv's thread pool ---- */

typedef struct {
  napi_async_work work;
  napi_ref callback;
  int fd;
  int64_t pos;
  int64_t len;
  int err;
} prefetch_t;

static void prefetch_execute(napi_env env, void *data) {
  (void)env;
  prefetch_t *p = (prefetch_t *)data;
  /* Which pages are missing (mincore, before any read is started: a page under I/O already
     counts as present), then readahead() to start all the reads at once, then one byte of
     every missing page, which waits for its read. The caller's sendfile() afterwards finds
     the whole range cached and cannot block. Pages already cached are not touched. */
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = p->pos - (p->pos % page);
  size_t span = (size_t)(p->pos + p->len - start);
  size_t pages = (span + (size_t)page - 1) / (size_t)page;
  unsigned char *vec = NULL;
  void *map = mmap(NULL, span, PROT_READ, MAP_SHARED, p->fd, (off_t)start);
  if (map != MAP_FAILED) {
    vec = (unsigned char *)malloc(pages);
    if (vec != NULL && mincore(map, span, vec) != 0) {
      free(vec);
      vec = NULL;
    }
    munmap(map, span);
  }
  if (readahead(p->fd, (off64_t)p->pos, (size_t)p->len) != 0 && errno != EINVAL) p->err = errno;
  char byte;
  for (size_t i = 0; i < pages; i++) {
    if (vec != NULL && (vec[i] & 1)) continue;
    ssize_t n = pread(p->fd, &byte, 1, (off_t)(start + (int64_t)i * page));
    if (n < 0) {
      if (errno == EINTR) {
        i--;
        continue;
      }
      p->err = errno;
      break;
    }
    if (n == 0) break; /* end of file */
  }
  free(vec);
}

static void prefetch_complete(napi_env env, napi_status status, void *data) {
  prefetch_t *p = (prefetch_t *)data;
  finish_job(env, p->callback, p->work, status == napi_ok ? -p->err : -ECANCELED);
  free(p);
}

static napi_value js_prefetch(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t fd, pos, len;
  if (get_args(env, info, 4, argv, NULL) != 0 || get_i64(env, argv[0], &fd) != 0 || get_i64(env, argv[1], &pos) != 0 ||
      get_i64(env, argv[2], &len) != 0)
    return NULL;
  if (pos < 0 || len < 0) return make_int(env, -EINVAL);
  prefetch_t *p = (prefetch_t *)calloc(1, sizeof(prefetch_t));
  if (p == NULL) return make_int(env, -ENOMEM);
  p->fd = (int)fd;
  p->pos = pos;
  p->len = len;
  if (queue_job(env, argv[3], "SamsaPrefetch", prefetch_execute, prefetch_complete, p, &p->callback, &p->work) != 0) {
    free(p);
    return NULL;
  }
  return make_int(env, 0);
}

static napi_value init_module(napi_env env, napi_value exports) {
  state_t *st = (state_t *)calloc(1, sizeof(state_t));
  if (st == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  st->env = env;
  st->epfd = -1;
  if (napi_set_instance_data(env, st, finalize_state, NULL) != napi_ok) {
    free(st);
    return throw_last(env);
  }
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_enumerable, st},
      {"dup", NULL, js_dup, NULL, NULL, NULL, napi_enumerable, st},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, st},
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_enumerable, st},
      {"sendfile", NULL, js_sendfile, NULL, NULL, NULL, napi_enumerable, st},
      {"sendfileAsync", NULL, js_sendfile_async, NULL, NULL, NULL, napi_enumerable, st},
      {"writev", NULL, js_writev, NULL, NULL, NULL, napi_enumerable, st},
      {"resident", NULL, js_resident, NULL, NULL, NULL, napi_enumerable, st},
      {"preadNoWait", NULL, js_pread_nowait, NULL, NULL, NULL, napi_enumerable, st},
      {"prefetch", NULL, js_prefetch, NULL, NULL, NULL, napi_enumerable, st},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
