/* gzmq._speedups: the cooperative core's fast path, in C.
 *
 * gzmq/_fastpath.py is the reference: the Gate type here implements its
 * Gate method by method, line by line (tests/test_fastpath.py checks that
 * the two stay mirrors), calling libzmq directly instead of through pyzmq:
 *
 *   Gate.recv(timeout=None, copy=True), Gate.send(data, timeout=None)
 *       the one entry of every layer (typed, draft, gzmq.green): the
 *       owner/closed check, the fairness budget, the re-check of parked
 *       greenlets after every libzmq call, the hand-off to the parking path
 *   Gate.try_recv(copy), Gate.try_send(frames)
 *       one attempt for the head of a queue (the parking path's)
 *   Method(function, kind)  the socket classes' recv()/send(), running
 *                           Gate.recv/send without a Python frame
 *   getsockopt_int(handle, option) -> value, or -errno
 *   recv_message(handle)   -> list of bytes, None on EAGAIN, or -errno
 *
 * All libzmq calls use ZMQ_DONTWAIT and never block.  The module does not
 * link against libzmq: gzmq._native resolves the functions in the libzmq
 * that pyzmq loaded and hands their addresses to bind().  A Gate calls
 * libzmq only after checking, in the same call, that the calling thread
 * owns the socket (``owner`` is a negative sentinel once it is closed,
 * lent or inherited through fork).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>
#include <pythread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define GZMQ_DONTWAIT 1
#define GZMQ_SNDMORE 2

/* zmq_msg_t as libzmq 4.x declares it: 64 opaque, pointer-aligned bytes. */
typedef struct {
    union {
        unsigned char bytes[64];
        void *align;
    } u;
} gzmq_msg_t;

typedef int (*getsockopt_fn)(void *, int, void *, size_t *);
typedef int (*msg_init_fn)(gzmq_msg_t *);
typedef int (*msg_recv_fn)(gzmq_msg_t *, void *, int);
typedef int (*msg_close_fn)(gzmq_msg_t *);
typedef void *(*msg_data_fn)(gzmq_msg_t *);
typedef size_t (*msg_size_fn)(const gzmq_msg_t *);
typedef int (*msg_more_fn)(const gzmq_msg_t *);
typedef int (*send_fn)(void *, const void *, size_t, int);
typedef void (*free_fn)(void *, void *);
typedef int (*msg_init_data_fn)(gzmq_msg_t *, void *, size_t, free_fn, void *);
typedef int (*msg_send_fn)(gzmq_msg_t *, void *, int);

static getsockopt_fn z_getsockopt = NULL;
static msg_init_fn z_msg_init = NULL;
static msg_recv_fn z_msg_recv = NULL;
static msg_close_fn z_msg_close = NULL;
static msg_data_fn z_msg_data = NULL;
static msg_size_fn z_msg_size = NULL;
static msg_more_fn z_msg_more = NULL;
static send_fn z_send = NULL;
static msg_init_data_fn z_msg_init_data = NULL;
static msg_send_fn z_msg_send = NULL;

/* The fairness budget and what counts as a large message (configure()). */
static Py_ssize_t fairness_limit = 512;
static int cost_shift = 8;
static Py_ssize_t large_message = 65536; /* sent without a copy from this size */

static int
pointer_of(PyObject *object, void **out)
{
    void *pointer = PyLong_AsVoidPtr(object);
    if (pointer == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "NULL pointer");
        return -1;
    }
    *out = pointer;
    return 0;
}

static PyObject *
bind(PyObject *module, PyObject *args)
{
    PyObject *a[10];
    if (!PyArg_ParseTuple(args, "OOOOOOOOOO:bind", &a[0], &a[1], &a[2], &a[3],
                          &a[4], &a[5], &a[6], &a[7], &a[8], &a[9]))
        return NULL;
    void *p[10];
    for (int i = 0; i < 10; i++)
        if (pointer_of(a[i], &p[i]) < 0)
            return NULL;
    z_getsockopt = (getsockopt_fn)p[0];
    z_msg_init = (msg_init_fn)p[1];
    z_msg_recv = (msg_recv_fn)p[2];
    z_msg_close = (msg_close_fn)p[3];
    z_msg_data = (msg_data_fn)p[4];
    z_msg_size = (msg_size_fn)p[5];
    z_msg_more = (msg_more_fn)p[6];
    z_send = (send_fn)p[7];
    z_msg_init_data = (msg_init_data_fn)p[8];
    z_msg_send = (msg_send_fn)p[9];
    Py_RETURN_NONE;
}

static int
check_bound(void)
{
    if (z_send == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "gzmq._speedups is not bound to libzmq");
        return -1;
    }
    return 0;
}

static PyObject *
getsockopt_int(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *handle;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "getsockopt_int(handle, option) takes 2 arguments");
        return NULL;
    }
    if (check_bound() < 0 || pointer_of(args[0], &handle) < 0)
        return NULL;
    long option = PyLong_AsLong(args[1]);
    if (option == -1 && PyErr_Occurred())
        return NULL;
    int value = 0;
    size_t size = sizeof(value);
    if (z_getsockopt(handle, (int)option, &value, &size) != 0)
        return PyLong_FromLong(-(long)errno);
    return PyLong_FromLong(value);
}

/* -- Large frames go out without a copy ---------------------------------------
 *
 * A frame of large_message bytes or more is handed to libzmq with
 * zmq_msg_init_data: libzmq reads the bytes object's own buffer, and calls
 * release_later() when it is done with it, from whatever thread that is (the
 * I/O thread, for tcp), maybe without the GIL.  So release_later() only links
 * the object onto a list under a plain lock, and release_pending() drops the
 * references later, from a thread holding the GIL (every send and receive
 * here starts with it).  This saves a copy of the frame and a malloc/free
 * pair: with two large blocks freed per message, glibc may trim the heap top
 * on every message and fault it back in on the next (measured: 4x slower).
 */

typedef struct held {
    struct held *next;
    PyObject *object;
} held_t;

static PyThread_type_lock held_lock = NULL;
/* Large frames handed to libzmq and not yet released by it. */
static long inflight = 0;
/* Set once a socket closes with large frames in flight: release_later()
 * then signals release_fd, an eventfd a hub watches (see gzmq._native). */
static int release_wanted = 0; /* accessed with __atomic builtins only */
static int release_fd = -1;
static held_t *held_list = NULL;
static int held_any = 0; /* accessed with __atomic builtins only */

static void
release_later(void *data, void *hint)
{
    held_t *node = (held_t *)hint;
    PyThread_acquire_lock(held_lock, WAIT_LOCK);
    node->next = held_list;
    held_list = node;
    __atomic_store_n(&held_any, 1, __ATOMIC_SEQ_CST);
    PyThread_release_lock(held_lock);
    /* Sequentially consistent with want_release(): either it sees this
     * node (held_any, inflight) or this call sees release_wanted and
     * signals; a plain flag let both miss on x86 (a store then a load may
     * pass each other), and the frames stayed until some later call. */
    __atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&release_wanted, __ATOMIC_SEQ_CST) && release_fd >= 0) {
        /* A socket with large frames in flight was closed: wake the hub
         * watching release_fd, so that the reference is dropped without
         * waiting for another call here (write needs no GIL). */
        uint64_t one = 1;
        ssize_t written = write(release_fd, &one, sizeof(one));
        (void)written;
    }
}

/* Drop the references on the list (the GIL is held). */
static void
drain_held(void)
{
    PyThread_acquire_lock(held_lock, WAIT_LOCK);
    held_t *node = held_list;
    held_list = NULL;
    __atomic_store_n(&held_any, 0, __ATOMIC_SEQ_CST);
    PyThread_release_lock(held_lock);
    while (node != NULL) {
        held_t *next = node->next;
        Py_DECREF(node->object);
        PyMem_RawFree(node);
        node = next;
    }
}

/* Drop the references libzmq has finished with (the GIL is held). */
static void
release_pending(void)
{
    if (!__atomic_load_n(&held_any, __ATOMIC_SEQ_CST))
        return; /* in the hot path, a stale read only delays the release to the next call */
    drain_held();
    if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) == 0) {
        /* release_later() puts a node on the list before it counts it
         * down: the nodes of the counts seen here are all on it now. */
        drain_held();
        __atomic_store_n(&release_wanted, 0, __ATOMIC_SEQ_CST);
    }
}

static PyObject *
release_pending_now(PyObject *module, PyObject *unused)
{
    release_pending();
    Py_RETURN_NONE;
}

/* After a close: if large frames are in flight, have libzmq's release of
 * them signal release_fd from now on.  Returns the fd to watch, or -1 when
 * nothing is in flight (or there is no eventfd). */
static PyObject *
want_release(PyObject *module, PyObject *unused)
{
    release_pending();
    if (release_fd < 0)
        return PyLong_FromLong(-1);
    if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) == 0) {
        drain_held(); /* the nodes of the counts seen (see release_pending) */
        return PyLong_FromLong(-1);
    }
    __atomic_store_n(&release_wanted, 1, __ATOMIC_SEQ_CST);
    /* Frames released before release_later() could see the flag did not
     * signal: they are on the list now (see release_later). */
    release_pending();
    if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) == 0) {
        drain_held();
        __atomic_store_n(&release_wanted, 0, __ATOMIC_SEQ_CST);
        return PyLong_FromLong(-1);
    }
    return PyLong_FromLong(release_fd);
}

/* The io watcher on release_fd fired: reset it and drop what was released.
 * Returns whether frames are still in flight (keep watching). */
static PyObject *
on_release(PyObject *module, PyObject *unused)
{
    uint64_t count;
    if (release_fd >= 0) {
        ssize_t got = read(release_fd, &count, sizeof(count));
        (void)got;
    }
    release_pending();
    if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) != 0)
        Py_RETURN_TRUE;
    /* Nothing is in flight: the last releases' nodes are on the list (each
     * goes on before its count goes down), even if release_pending() above
     * took the list before they got there. */
    drain_held();
    Py_RETURN_FALSE;
}

/* In a forked child: the lock may have been held by a thread that is gone. */
static PyObject *
after_fork(PyObject *module, PyObject *unused)
{
    held_lock = PyThread_allocate_lock(); /* the parent's copy is abandoned */
    if (held_lock == NULL)
        return PyErr_NoMemory();
    /* The parent's eventfd is shared with it: the child gets its own. */
    if (release_fd >= 0)
        close(release_fd);
    release_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    Py_RETURN_NONE;
}

/* Send one bytes frame with ``flags`` (DONTWAIT and maybe SNDMORE): 0, or -1
 * with errno set.  Large frames go without a copy. */
static int
send_bytes(void *handle, PyObject *data, int flags)
{
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    release_pending();
    if (size < large_message || z_msg_init_data == NULL)
        return z_send(handle, PyBytes_AS_STRING(data), (size_t)size, flags) < 0 ? -1 : 0;
    held_t *node = (held_t *)PyMem_RawMalloc(sizeof(held_t));
    if (node == NULL)
        return z_send(handle, PyBytes_AS_STRING(data), (size_t)size, flags) < 0 ? -1 : 0;
    node->next = NULL;
    node->object = Py_NewRef(data);
    __atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
    gzmq_msg_t msg;
    if (z_msg_init_data(&msg, PyBytes_AS_STRING(data), (size_t)size, release_later, node) != 0) {
        int error = errno;
        __atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
        Py_DECREF(data);
        PyMem_RawFree(node);
        errno = error;
        return -1;
    }
    if (z_msg_send(&msg, handle, flags) < 0) {
        int error = errno;
        z_msg_close(&msg); /* calls release_later: the reference goes on the list */
        errno = error;
        return -1;
    }
    return 0;
}

/* One whole message from ``handle`` (DONTWAIT): a list of bytes, None on
 * EAGAIN, or -errno. */
static PyObject *
receive_whole(void *handle)
{
    gzmq_msg_t msg;
    release_pending();
    z_msg_init(&msg);
    if (z_msg_recv(&msg, handle, GZMQ_DONTWAIT) < 0) {
        int error = errno;
        z_msg_close(&msg);
        if (error == EAGAIN)
            Py_RETURN_NONE;
        return PyLong_FromLong(-(long)error);
    }
    PyObject *message = PyList_New(0);
    if (message == NULL) {
        z_msg_close(&msg);
        return NULL;
    }
    for (;;) {
        PyObject *frame = PyBytes_FromStringAndSize(
            (const char *)z_msg_data(&msg), (Py_ssize_t)z_msg_size(&msg));
        int more = z_msg_more(&msg);
        z_msg_close(&msg);
        if (frame == NULL || PyList_Append(message, frame) < 0) {
            Py_XDECREF(frame);
            /* Drain the rest of the message so that no partial one stays queued. */
            while (more) {
                z_msg_init(&msg);
                if (z_msg_recv(&msg, handle, GZMQ_DONTWAIT) < 0) {
                    z_msg_close(&msg);
                    break;
                }
                more = z_msg_more(&msg);
                z_msg_close(&msg);
            }
            Py_DECREF(message);
            return NULL;
        }
        Py_DECREF(frame);
        if (!more)
            return message;
        /* libzmq delivers messages whole: the next frame is already here. */
        z_msg_init(&msg);
        if (z_msg_recv(&msg, handle, GZMQ_DONTWAIT) < 0) {
            int error = errno;
            z_msg_close(&msg);
            Py_DECREF(message);
            return PyLong_FromLong(-(long)error);
        }
    }
}

/* One frame from ``handle`` (DONTWAIT): (bytes, more), None on EAGAIN, or
 * -errno. */
static PyObject *
receive_one(void *handle)
{
    gzmq_msg_t msg;
    release_pending();
    z_msg_init(&msg);
    if (z_msg_recv(&msg, handle, GZMQ_DONTWAIT) < 0) {
        int error = errno;
        z_msg_close(&msg);
        if (error == EAGAIN)
            Py_RETURN_NONE;
        return PyLong_FromLong(-(long)error);
    }
    PyObject *frame = PyBytes_FromStringAndSize((const char *)z_msg_data(&msg),
                                                (Py_ssize_t)z_msg_size(&msg));
    int more = z_msg_more(&msg);
    z_msg_close(&msg);
    if (frame == NULL)
        return NULL; /* the rest of the message stays queued: the caller owns it now */
    PyObject *pair = PyTuple_Pack(2, frame, more ? Py_True : Py_False);
    Py_DECREF(frame);
    return pair;
}

static PyObject *
recv_message(PyObject *module, PyObject *handle_object)
{
    void *handle;
    if (check_bound() < 0 || pointer_of(handle_object, &handle) < 0)
        return NULL;
    return receive_whole(handle);
}

/* Whether ``frames`` is a non-empty list or tuple of bytes (what send_frames takes). */
static int
all_bytes(PyObject *frames)
{
    if (!PyList_CheckExact(frames) && !PyTuple_CheckExact(frames))
        return 0;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(frames);
    PyObject **items = PySequence_Fast_ITEMS(frames);
    if (count == 0)
        return 0;
    for (Py_ssize_t i = 0; i < count; i++)
        if (!PyBytes_CheckExact(items[i]))
            return 0;
    return 1;
}

/* Send a list or tuple of bytes (all_bytes) as one message: 0, -errno if the
 * first frame failed (nothing sent; -EAGAIN too), or (sent, errno) if a later
 * frame failed. */
static PyObject *
send_frames(void *handle, PyObject *frames)
{
    Py_ssize_t count = PySequence_Fast_GET_SIZE(frames);
    PyObject **items = PySequence_Fast_ITEMS(frames);
    /* Only the first frame may meet the high water mark: libzmq checks it at
     * message boundaries, so the rest of an accepted message goes through. */
    for (Py_ssize_t i = 0; i < count; i++) {
        int flags = GZMQ_DONTWAIT | (i + 1 < count ? GZMQ_SNDMORE : 0);
        if (send_bytes(handle, items[i], flags) < 0) {
            int error = errno;
            if (i == 0)
                return PyLong_FromLong(-(long)error);
            return Py_BuildValue("(ni)", i, error);
        }
    }
    return PyLong_FromLong(0);
}

/* -- Gate: the fast-path decision (gzmq/_fastpath.py's Gate, in C) ----------
 *
 * gzmq._waiting.Waiting subclasses Gate.  Its C fields:
 *   handle   the libzmq socket's address (int)
 *   owner    the owning thread's ident (int; a negative sentinel when closed,
 *            lent or forked, which never equals a thread's ident)
 *   readers, writers  the deques of parked greenlets
 *   streak   completions without a switch to the hub (the fairness budget)
 * and the methods below call back into Waiting (refresh, wait_recv,
 * wait_send, wrong_owner, fail_errno, partial_send, hold) exactly where the
 * Python Gate does.
 */

typedef struct {
    PyObject_HEAD
    PyObject *handle;   /* the address as a Python int (what Python reads back) */
    void *pointer;      /* the same, as a pointer */
    long owner;         /* a thread ident (they fit a long here), or a negative sentinel */
    PyObject *readers;
    PyObject *writers;
    Py_ssize_t streak;
    Py_ssize_t polling;
    /* What the C parking path reads (Python fields of Waiting before): */
    char closed;
    char watching;       /* _watching: the io watcher is started */
    PyObject *watcher;   /* _watcher: gevent's io watcher, or None */
    PyObject *hub;
    int receive_timeout; /* ms, as ZMQ_RCVTIMEO: -1 forever */
    int send_timeout;
} Gate;

static PyTypeObject *deque_type = NULL;
static PyObject *recv_frames_function = NULL; /* gzmq._fastpath.recv_frames */
static PyObject *send_frames_function = NULL; /* gzmq._fastpath.send_frames */
static PyObject *cost_of_function = NULL;     /* gzmq._fastpath.cost_of */

static PyObject *refresh_name, *wait_recv_name, *wait_send_name, *wrong_owner_name,
    *fail_errno_name, *partial_send_name, *hold_name, *open_read_name, *socket_name,
    *waiting_name, *timeout_name, *copy_name;

static int
gate_traverse(Gate *self, visitproc visit, void *arg)
{
    Py_VISIT(self->handle);
    Py_VISIT(self->watcher);
    Py_VISIT(self->hub);
    Py_VISIT(self->readers);
    Py_VISIT(self->writers);
    return 0;
}

static int
gate_clear(Gate *self)
{
    Py_CLEAR(self->handle);
    Py_CLEAR(self->watcher);
    Py_CLEAR(self->hub);
    Py_CLEAR(self->readers);
    Py_CLEAR(self->writers);
    return 0;
}

static void
gate_dealloc(Gate *self)
{
    PyObject_GC_UnTrack(self);
    gate_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Whether ``queue`` (a deque) holds parked greenlets.  Anything but a deque
 * counts as occupied, so that the fast path never runs on a broken Gate. */
static inline int
occupied(PyObject *queue)
{
    return queue == NULL || Py_TYPE(queue) != deque_type || Py_SIZE(queue) != 0;
}

/* Whether the calling thread owns the socket (``_get_ident() == owner``);
 * sets *handle when it does. */
static inline int
owned(Gate *gate, void **handle)
{
    if ((unsigned long)gate->owner != PyThread_get_thread_ident() || gate->pointer == NULL)
        return 0;
    *handle = gate->pointer;
    return 1;
}

static PyObject *
gate_get_handle(Gate *self, void *closure)
{
    if (self->handle == NULL) {
        PyErr_SetString(PyExc_AttributeError, "handle");
        return NULL;
    }
    return Py_NewRef(self->handle);
}

static int
gate_set_handle(Gate *self, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete handle");
        return -1;
    }
    void *pointer = PyLong_AsVoidPtr(value);
    if (pointer == NULL && PyErr_Occurred())
        return -1;
    Py_XSETREF(self->handle, Py_NewRef(value));
    self->pointer = pointer;
    return 0;
}

static PyGetSetDef gate_getset[] = {
    {"handle", (getter)gate_get_handle, (setter)gate_set_handle,
     "the libzmq socket's address", NULL},
    {NULL},
};

/* _once(timeout): a zero of int or float (try once, never wait). */
static inline int
once_of(PyObject *timeout)
{
    if (PyLong_CheckExact(timeout)) {
        int overflow;
        long value = PyLong_AsLongAndOverflow(timeout, &overflow);
        return !overflow && value == 0;
    }
    if (PyFloat_CheckExact(timeout))
        return PyFloat_AS_DOUBLE(timeout) == 0.0;
    return 0;
}

/* cost_of(frames) for bytes or a list or tuple of bytes (all_bytes). */
static Py_ssize_t
bytes_cost(PyObject *data)
{
    if (PyBytes_CheckExact(data))
        return 1 + (PyBytes_GET_SIZE(data) >> cost_shift);
    Py_ssize_t size = 0;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(data);
    PyObject **items = PySequence_Fast_ITEMS(data);
    for (Py_ssize_t i = 0; i < count; i++)
        size += PyBytes_GET_SIZE(items[i]);
    return 1 + (size >> cost_shift);
}

/* cost_of(frames) for any frames (the Python function for what is not bytes). */
static Py_ssize_t
frames_cost(PyObject *frames)
{
    if (PyBytes_CheckExact(frames) || all_bytes(frames))
        return bytes_cost(frames);
    PyObject *cost = PyObject_CallOneArg(cost_of_function, frames);
    if (cost == NULL)
        return -1;
    Py_ssize_t value = PyLong_AsSsize_t(cost);
    Py_DECREF(cost);
    return value;
}

/* self.<name>(*args) */
static PyObject *
call(Gate *gate, PyObject *name, PyObject *const *args, size_t nargs)
{
    PyObject *stack[5];
    stack[0] = (PyObject *)gate;
    for (size_t i = 0; i < nargs; i++)
        stack[i + 1] = args[i];
    return PyObject_VectorcallMethod(name, stack, (nargs + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                     NULL);
}

static int
call_void(Gate *gate, PyObject *name)
{
    PyObject *result = call(gate, name, NULL, 0);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

/* self.fail_errno(number): raises; NULL (or whatever it returned, if it did not). */
static PyObject *
fail_errno(Gate *gate, long number)
{
    PyObject *code = PyLong_FromLong(number);
    if (code == NULL)
        return NULL;
    PyObject *result = call(gate, fail_errno_name, &code, 1);
    Py_DECREF(code);
    if (result != NULL) {
        Py_DECREF(result);
        PyErr_Format(PyExc_RuntimeError, "fail_errno(%ld) returned instead of raising", number);
    }
    return NULL;
}

/* _refresh_holding(message): refresh(); if it raises, the message is held. */
static int
refresh_holding(Gate *gate, PyObject *message)
{
    if (call_void(gate, refresh_name) == 0)
        return 0;
    if (PyList_CheckExact(message)) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyObject *held = call(gate, hold_name, &message, 1);
        if (held == NULL) {
            /* The first error wins; the second is reported as unraisable. */
            PyErr_WriteUnraisable((PyObject *)gate);
        }
        else {
            Py_DECREF(held);
        }
        PyErr_Restore(type, value, traceback);
    }
    return -1;
}

/* One whole message: a list, or -errno (-EAGAIN too) as an int; NULL on
 * error.  With ``part``, one frame: (frame, more). */
static PyObject *
receive(Gate *gate, void *handle, PyObject *copy, int part)
{
    if (copy == Py_True) {
        PyObject *message = part ? receive_one(handle) : receive_whole(handle);
        if (message == Py_None) {
            Py_DECREF(message);
            return PyLong_FromLong(-(long)EAGAIN);
        }
        return message;
    }
    PyObject *socket = PyObject_GetAttr((PyObject *)gate, socket_name);
    if (socket == NULL)
        return NULL;
    PyObject *args[3] = {socket, copy, part ? Py_True : Py_False};
    PyObject *message = PyObject_Vectorcall(recv_frames_function, args, 3, NULL);
    Py_DECREF(socket);
    return message;
}

/* After wait_recv's hand-off: the call to make for the slow path. */
static PyObject *
wait_recv(Gate *gate, PyObject *timeout, PyObject *copy, PyObject *tried, int part)
{
    PyObject *args[4] = {timeout, copy, tried, part ? Py_True : Py_False};
    return call(gate, wait_recv_name, args, 4);
}

static PyObject *
wait_send(Gate *gate, PyObject *data, PyObject *timeout, PyObject *tried)
{
    PyObject *args[3] = {data, timeout, tried};
    return call(gate, wait_send_name, args, 3);
}

/* The parked greenlets to re-check after a libzmq call: those of the other
 * direction, and any poll or readiness wait. */
static inline int
others_wait(Gate *gate, PyObject *other)
{
    return occupied(other) || gate->polling > 0;
}

/* -- Parked: one greenlet parked in a queue (gzmq._parking.Parked, in C) --------
 *
 * The same fields as the Python class, which the pure-Python core uses:
 * the C parking path below makes them without a Python call, and the
 * Python parking path (gzmq._parking, gzmq._handoff, gzmq._reservations)
 * reads and writes them as it does the Python class's.
 */

typedef struct {
    PyObject_HEAD
    PyObject *glet;    /* the parked greenlet, while it is parked */
    PyObject *copy;    /* a receiver's copy (True, False), None for others */
    PyObject *message; /* what the hand-off received on its behalf */
    char woken;
    char expired;
    char part;
    char served;
    char held;
} Parked;

static PyTypeObject ParkedType;
static PyObject *switch_name, *resume_name;

static int
parked_traverse(Parked *self, visitproc visit, void *arg)
{
    Py_VISIT(self->glet);
    Py_VISIT(self->copy);
    Py_VISIT(self->message);
    return 0;
}

static int
parked_clear(Parked *self)
{
    Py_CLEAR(self->glet);
    Py_CLEAR(self->copy);
    Py_CLEAR(self->message);
    return 0;
}

static void
parked_dealloc(Parked *self)
{
    PyObject_GC_UnTrack(self);
    parked_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Parked.resume(): switch back into the parked greenlet, if it is still parked. */
static PyObject *
parked_resume(Parked *self, PyObject *unused)
{
    if (self->glet == NULL || self->glet == Py_None)
        Py_RETURN_NONE;
    PyObject *glet = Py_NewRef(self->glet);
    PyObject *result = PyObject_CallMethodNoArgs(glet, switch_name);
    Py_DECREF(glet);
    return result;
}

/* Parked.expire(): the call's deadline passed (a timer callback, in the hub). */
static PyObject *
parked_expire(Parked *self, PyObject *unused)
{
    self->expired = 1;
    return parked_resume(self, NULL);
}

static PyMethodDef parked_methods[] = {
    {"resume", (PyCFunction)parked_resume, METH_NOARGS,
     "resume()\n--\n\nSwitch back into the parked greenlet, if it is still parked."},
    {"expire", (PyCFunction)parked_expire, METH_NOARGS,
     "expire()\n--\n\nThe call's deadline passed (a timer callback, in the hub)."},
    {NULL},
};

static PyMemberDef parked_members[] = {
    {"glet", T_OBJECT, offsetof(Parked, glet), 0, "the parked greenlet, while parked"},
    {"copy", T_OBJECT, offsetof(Parked, copy), 0, "a receiver's copy (None for others)"},
    {"message", T_OBJECT, offsetof(Parked, message), 0, "what the hand-off received for it"},
    {"woken", T_BOOL, offsetof(Parked, woken), 0, "whether a wake-up is on its way"},
    {"expired", T_BOOL, offsetof(Parked, expired), 0, "whether its deadline passed"},
    {"part", T_BOOL, offsetof(Parked, part), 0, "a receiver of one frame"},
    {"served", T_BOOL, offsetof(Parked, served), 0, "the hand-off took it out of its queue"},
    {"held", T_BOOL, offsetof(Parked, held), 0, "only holds a message for the next receiver"},
    {NULL},
};

static PyTypeObject ParkedType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gzmq._speedups.Parked",
    .tp_doc = "One greenlet parked in a send or receive queue (gzmq._parking.Parked, in C).",
    .tp_basicsize = sizeof(Parked),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_traverse = (traverseproc)parked_traverse,
    .tp_clear = (inquiry)parked_clear,
    .tp_dealloc = (destructor)parked_dealloc,
    .tp_methods = parked_methods,
    .tp_members = parked_members,
};

/* -- The parking path's common case, in C -------------------------------------
 *
 * A receive that got EAGAIN on the fast path, with no timeout, nobody else
 * in the readers queue: park in the queue, switch to the hub, and return
 * what the hand-off (gate_on_fd, or the Python one) received on this
 * receiver's behalf.  Anything else -- a wake-up without a message (an error
 * to meet, a close), a held message, a timeout -- is handed to the Python
 * loop (Waiting.wait_parked) with the entry already queued, and an
 * interruption (a kill, a gevent.Timeout) to Waiting.finish_wait, exactly as
 * the Python loop's own ``finally`` would.
 */

static PyObject *append_name, *popleft_name, *start_watching_name, *stop_watching_name,
    *wait_parked_name, *finish_wait_name, *took_part_name, *on_fd_slow_name,
    *switch_into_name, *closed_error_name, *deliver_name;
static PyObject *getcurrent_function = NULL; /* greenlet.getcurrent */

/* self._stop_watching() when nobody waits any more (served path of finish_wait). */
static int
stop_if_idle(Gate *gate)
{
    if (gate->closed || occupied(gate->readers) || occupied(gate->writers) || gate->polling)
        return 0;
    if (!gate->watching)
        return 0;
    return call_void(gate, stop_watching_name);
}

static PyObject *
park_recv(Gate *gate, PyObject *copy, int part)
{
    Parked *entry = (Parked *)ParkedType.tp_alloc(&ParkedType, 0);
    if (entry == NULL)
        return NULL;
    entry->copy = Py_NewRef(copy);
    entry->part = (char)part;
    PyObject *appended = PyObject_CallMethodOneArg(gate->readers, append_name,
                                                   (PyObject *)entry);
    if (appended == NULL) {
        Py_DECREF(entry);
        return NULL;
    }
    Py_DECREF(appended);
    PyObject *result = NULL;
    if (!gate->watching && call_void(gate, start_watching_name) < 0)
        goto failed;
    PyObject *current = PyObject_CallNoArgs(getcurrent_function);
    if (current == NULL)
        goto failed;
    Py_XSETREF(entry->glet, current);
    entry->woken = 0;
    PyObject *hub = Py_NewRef(gate->hub);
    PyObject *switched = PyObject_CallMethodNoArgs(hub, switch_name);
    Py_DECREF(hub);
    Py_CLEAR(entry->glet);
    if (switched == NULL)
        goto failed; /* interrupted: finish_wait hands its message on */
    Py_DECREF(switched);
    gate->streak = 0; /* the hub ran */
    if (entry->message != NULL && entry->message != Py_None) {
        result = entry->message;
        entry->message = NULL;
        gate->streak = 1;
        if (stop_if_idle(gate) < 0)
            Py_CLEAR(result);
        Py_DECREF(entry);
        return result;
    }
    /* Woken without a message: the Python loop takes it from here. */
    {
        PyObject *args[3] = {(PyObject *)entry, Py_None, Py_True};
        result = call(gate, wait_parked_name, args, 3);
    }
    Py_DECREF(entry);
    return result;

failed:
    {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyObject *done = call(gate, finish_wait_name, (PyObject **)&entry, 1);
        if (done == NULL)
            PyErr_WriteUnraisable((PyObject *)gate);
        else
            Py_DECREF(done);
        PyErr_Restore(type, value, traceback);
    }
    Py_DECREF(entry);
    return NULL;
}

/* Whether the C parking path may take this wait (see park_recv). */
static inline int
may_park(Gate *gate)
{
    return gate->receive_timeout < 0 && !occupied(gate->readers) && gate->hub != NULL
           && getcurrent_function != NULL;
}

/* Whether the head of the (non-empty) readers queue is a receiver parked in
 * the C way with no held message, and with ``copying``, one of bytes: 1, 0,
 * or -1 with an exception. */
static int
plain_head(Gate *gate, int copying)
{
    PyObject *head = PySequence_GetItem(gate->readers, 0);
    if (head == NULL)
        return -1;
    int plain = Py_TYPE(head) == &ParkedType && !((Parked *)head)->held
                && (!copying || ((Parked *)head)->copy == Py_True);
    Py_DECREF(head);
    return plain;
}

/* Whether a receive of a whole message may park in C behind the receivers
 * already queued (first come first served: it must not try to receive before
 * them).  Only behind a plain parked receiver: a held message at the head is
 * the caller's to take, and another greenlet's open frame-by-frame message
 * needs its death watched (Python's wait_parked does both). */
static inline int
may_park_behind(Gate *gate)
{
    if (gate->receive_timeout >= 0 || gate->hub == NULL || getcurrent_function == NULL
        || gate->readers == NULL || Py_TYPE(gate->readers) != deque_type
        || Py_SIZE(gate->readers) == 0)
        return 0;
    int plain = plain_head(gate, 0);
    if (plain < 0) {
        PyErr_Clear();
        return 0;
    }
    return plain;
}

/* -- The io watcher's callback, in C ---------------------------------------------
 *
 * gzmq._handoff.Handoff._on_fd's common case: only receivers of bytes wait
 * (no sender, no poll), the head is a plain receiver: receive a message for
 * each parked receiver in turn, first come first served, then switch into
 * them one after the other (_deliver and _switch_into, in C).  Anything
 * else goes to the Python callback (_on_fd_slow).
 */

static PyObject *
deliver(Gate *gate)
{
    PyObject *served = PyList_New(0);
    if (served == NULL)
        return NULL;
    PyObject *wake = NULL; /* a head to resume without a message (an error to meet) */
    int rest = 0;          /* stopped at a receiver this loop does not serve */
    Py_ssize_t budget = Py_SIZE(gate->readers);
    while (budget > 0 && Py_SIZE(gate->readers) > 0) {
        PyObject *head = PySequence_GetItem(gate->readers, 0);
        if (head == NULL)
            goto failed;
        Parked *entry = (Parked *)head;
        if (Py_TYPE(head) != &ParkedType || entry->held || entry->glet == NULL
            || entry->glet == Py_None || entry->copy != Py_True) {
            Py_DECREF(head);
            rest = 1; /* a held message, an open read, no-copy: Python's _deliver */
            break;
        }
        if (gate->owner < 0) {
            /* Closed, lent or forked: let the head meet that itself. */
            if (!entry->woken) {
                entry->woken = 1;
                wake = head;
            }
            else
                Py_DECREF(head);
            break;
        }
        PyObject *message = entry->part ? receive_one(gate->pointer)
                                        : receive_whole(gate->pointer);
        if (message == NULL) {
            Py_DECREF(head);
            goto failed;
        }
        if (message == Py_None) { /* EAGAIN */
            Py_DECREF(message);
            Py_DECREF(head);
            break;
        }
        if (PyLong_CheckExact(message)) { /* -errno */
            Py_DECREF(message);
            if (!entry->woken) {
                entry->woken = 1;
                wake = head;
            }
            else
                Py_DECREF(head);
            break;
        }
        PyObject *popped = PyObject_CallMethodNoArgs(gate->readers, popleft_name);
        Py_XDECREF(popped);
        if (popped == NULL) {
            Py_DECREF(message);
            Py_DECREF(head);
            goto failed;
        }
        entry->served = 1;
        int more = 0;
        if (entry->part) {
            more = PyTuple_GET_ITEM(message, 1) == Py_True;
            PyObject *args[2] = {head, message};
            PyObject *frame = call(gate, took_part_name, args, 2);
            Py_DECREF(message);
            if (frame == NULL) {
                Py_DECREF(head);
                goto failed;
            }
            message = frame;
        }
        Py_XSETREF(entry->message, message);
        int appended = PyList_Append(served, head);
        Py_DECREF(head);
        if (appended < 0)
            goto failed;
        budget -= 1;
        if (more)
            break; /* its message keeps the head of the queue now */
    }
    {
        /* _switch_into(served, wake): in Python, which handles an exception
         * raised by a served greenlet (raw, its parent the hub) as it must. */
        PyObject *args[2] = {served, wake != NULL ? wake : Py_None};
        PyObject *done = call(gate, switch_into_name, args, 2);
        Py_DECREF(served);
        Py_XDECREF(wake);
        if (done != NULL && rest && !gate->closed && Py_SIZE(gate->readers) > 0) {
            /* The receives here may have consumed the edge the receivers
             * behind wait for: the Python hand-off serves them now. */
            Py_DECREF(done);
            done = call(gate, deliver_name, NULL, 0);
        }
        return done;
    }

failed:
    {
        /* Hand over what was received, then let the error go on. */
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyObject *args[2] = {served, wake != NULL ? wake : Py_None};
        PyObject *done = call(gate, switch_into_name, args, 2);
        if (done == NULL)
            PyErr_WriteUnraisable((PyObject *)gate);
        else
            Py_DECREF(done);
        PyErr_Restore(type, value, traceback);
    }
    Py_DECREF(served);
    Py_XDECREF(wake);
    return NULL;
}

/* Gate.on_fd(): the io watcher fired (in the hub). */
static PyObject *
gate_on_fd(Gate *gate, PyObject *unused)
{
    if (!gate->closed && Py_SIZE(gate->readers) > 0 && !occupied(gate->writers)
        && gate->polling == 0) {
        int plain = plain_head(gate, 1);
        if (plain < 0)
            return NULL;
        if (plain)
            /* Only receivers wait: trying to receive is the readiness check
             * (it processes libzmq's commands as reading EVENTS would). */
            return deliver(gate);
    }
    return call(gate, on_fd_slow_name, NULL, 0);
}

/* Gate.recv(timeout=None, copy=True), and Gate.recv_part(...) with ``part``. */
static PyObject *
gate_recv_impl(Gate *gate, PyObject *timeout, PyObject *copy, int part)
{
    void *handle;
    if (copy == Py_True && !occupied(gate->readers) && gate->streak < fairness_limit
        && owned(gate, &handle)) {
        int once = timeout != Py_None && once_of(timeout);
        if (timeout == Py_None || once) {
            PyObject *message = part ? receive_one(handle) : receive_whole(handle);
            if (message == NULL)
                return NULL;
            if (message == Py_None) { /* EAGAIN */
                Py_DECREF(message);
                message = PyLong_FromLong(-(long)EAGAIN);
            }
            if (part) {
                if (PyTuple_CheckExact(message) && PyTuple_GET_ITEM(message, 1) == Py_True
                    && call_void(gate, open_read_name) < 0) {
                    Py_DECREF(message);
                    return NULL;
                }
                if (others_wait(gate, gate->writers) && call_void(gate, refresh_name) < 0) {
                    Py_DECREF(message);
                    return NULL;
                }
                if (PyTuple_CheckExact(message)) {
                    gate->streak += 1;
                    PyObject *frame = Py_NewRef(PyTuple_GET_ITEM(message, 0));
                    Py_DECREF(message);
                    return frame;
                }
            }
            else {
                if (others_wait(gate, gate->writers) && refresh_holding(gate, message) < 0) {
                    Py_DECREF(message);
                    return NULL;
                }
                if (PyList_CheckExact(message)) {
                    gate->streak += 1;
                    return message;
                }
            }
            long code = PyLong_AsLong(message);
            Py_DECREF(message);
            if (code != -EAGAIN)
                return fail_errno(gate, -code);
            if (once)
                return fail_errno(gate, EAGAIN);
            if (may_park(gate))
                return park_recv(gate, Py_True, part);
            return wait_recv(gate, Py_None, Py_True, Py_True, part);
        }
    }
    else if (copy == Py_True && timeout == Py_None && !part && may_park_behind(gate)
             && owned(gate, &handle))
        /* Others wait first: park behind them (the hub runs, so the fairness
         * budget is kept). */
        return park_recv(gate, Py_True, 0);
    return wait_recv(gate, timeout, copy, Py_False, part);
}

/* Send bytes or a list or tuple of bytes: 0, -errno, or (index, errno). */
static PyObject *
send_all_bytes(void *handle, PyObject *data)
{
    if (PyBytes_CheckExact(data)) {
        if (send_bytes(handle, data, GZMQ_DONTWAIT) < 0)
            return PyLong_FromLong(-(long)errno);
        return PyLong_FromLong(0);
    }
    return send_frames(handle, data);
}

/* What to do with a send's result (0, -errno or (index, errno)), as the
 * Python Gate does: 1 when sent (the budget charged), 0 on EAGAIN (nothing
 * sent), -1 with an exception. */
static int
settle_send(Gate *gate, PyObject *result, PyObject *data)
{
    if (PyTuple_CheckExact(result)) {
        PyObject *args[3] = {data, PyTuple_GET_ITEM(result, 0), PyTuple_GET_ITEM(result, 1)};
        PyObject *done = call(gate, partial_send_name, args, 3);
        if (done == NULL)
            return -1;
        int truth = PyObject_IsTrue(done);
        Py_DECREF(done);
        if (truth <= 0)
            return truth;
    }
    else {
        long code = PyLong_AsLong(result);
        if (code == -1 && PyErr_Occurred())
            return -1;
        if (code == -EAGAIN)
            return 0;
        if (code != 0) {
            fail_errno(gate, -code);
            return -1;
        }
    }
    Py_ssize_t cost = frames_cost(data);
    if (cost < 0)
        return -1;
    gate->streak += cost;
    return 1;
}

/* Gate.send(data, timeout=None) */
static PyObject *
gate_send_impl(Gate *gate, PyObject *data, PyObject *timeout)
{
    void *handle;
    if (!occupied(gate->writers) && gate->streak < fairness_limit && owned(gate, &handle)) {
        int once = timeout != Py_None && once_of(timeout);
        if ((timeout == Py_None || once) && PyBytes_CheckExact(data)) {
            /* One frame of bytes, the common case, without boxing the result. */
            int error = send_bytes(handle, data, GZMQ_DONTWAIT) < 0 ? errno : 0;
            if (others_wait(gate, gate->readers) && call_void(gate, refresh_name) < 0)
                return NULL;
            if (error == 0) {
                gate->streak += 1 + (PyBytes_GET_SIZE(data) >> cost_shift);
                Py_RETURN_NONE;
            }
            if (error != EAGAIN)
                return fail_errno(gate, error);
            if (once)
                return fail_errno(gate, EAGAIN);
            PyObject *done = wait_send(gate, data, Py_None, Py_True);
            if (done == NULL)
                return NULL;
            Py_DECREF(done);
            Py_RETURN_NONE;
        }
        if ((timeout == Py_None || once) && all_bytes(data)) {
            PyObject *result = send_all_bytes(handle, data);
            if (result == NULL)
                return NULL;
            if (others_wait(gate, gate->readers) && call_void(gate, refresh_name) < 0) {
                Py_DECREF(result);
                return NULL;
            }
            int sent = settle_send(gate, result, data);
            Py_DECREF(result);
            if (sent < 0)
                return NULL;
            if (sent)
                Py_RETURN_NONE;
            if (once)
                return fail_errno(gate, EAGAIN);
            PyObject *done = wait_send(gate, data, Py_None, Py_True);
            if (done == NULL)
                return NULL;
            Py_DECREF(done);
            Py_RETURN_NONE;
        }
    }
    PyObject *done = wait_send(gate, data, timeout, Py_False);
    if (done == NULL)
        return NULL;
    Py_DECREF(done);
    Py_RETURN_NONE;
}

/* The owner check of try_recv / try_send: 0 with *handle set, or -1. */
static int
check_owned(Gate *gate, void **handle)
{
    if (owned(gate, handle))
        return 0;
    if (call_void(gate, wrong_owner_name) < 0)
        return -1; /* raised, as it does but for an idle green socket it adopts */
    if (owned(gate, handle))
        return 0;
    PyErr_SetString(PyExc_RuntimeError, "the socket's owner check passed a foreign thread");
    return -1;
}

/* Gate.try_recv(copy, part=False) */
static PyObject *
gate_try_recv_impl(Gate *gate, PyObject *copy, int part)
{
    void *handle;
    if (check_owned(gate, &handle) < 0)
        return NULL;
    PyObject *message = receive(gate, handle, copy, part);
    if (message == NULL)
        return NULL;
    if (others_wait(gate, gate->writers) && refresh_holding(gate, message) < 0) {
        Py_DECREF(message);
        return NULL;
    }
    if (PyList_CheckExact(message) || PyTuple_CheckExact(message)) {
        gate->streak += 1;
        return message;
    }
    long code = PyLong_AsLong(message);
    Py_DECREF(message);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (code != -EAGAIN)
        return fail_errno(gate, -code);
    Py_RETURN_NONE;
}

/* Gate.try_send(frames) */
static PyObject *
gate_try_send_impl(Gate *gate, PyObject *frames)
{
    void *handle;
    if (check_owned(gate, &handle) < 0)
        return NULL;
    PyObject *result;
    if (PyBytes_CheckExact(frames) || all_bytes(frames)) {
        result = send_all_bytes(handle, frames);
    }
    else {
        PyObject *socket = PyObject_GetAttr((PyObject *)gate, socket_name);
        if (socket == NULL)
            return NULL;
        PyObject *args[2] = {socket, frames};
        result = PyObject_Vectorcall(send_frames_function, args, 2, NULL);
        Py_DECREF(socket);
    }
    if (result == NULL)
        return NULL;
    if (others_wait(gate, gate->readers) && call_void(gate, refresh_name) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    int sent = settle_send(gate, result, frames);
    Py_DECREF(result);
    if (sent < 0)
        return NULL;
    return PyBool_FromLong(sent);
}

/* Parse (timeout=None, copy=True) or (data, timeout=None) style arguments:
 * ``names`` are the parameter names after self, ``values`` their defaults. */
static int
parse(const char *function, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
      PyObject **names, PyObject **values, Py_ssize_t count, Py_ssize_t required)
{
    if (nargs > count) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", function,
                     count, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        values[i] = args[i];
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t k = 0; k < nkw; k++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, k);
            Py_ssize_t i = 0;
            for (; i < count; i++)
                if (key == names[i] || PyUnicode_Compare(key, names[i]) == 0)
                    break;
            if (i == count || i < nargs) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected or repeated argument %R",
                             function, key);
                return -1;
            }
            values[i] = args[nargs + k];
        }
    }
    for (Py_ssize_t i = 0; i < required; i++)
        if (values[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument %R", function,
                         names[i]);
            return -1;
        }
    return 0;
}

static PyObject *
gate_recv(Gate *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *names[2] = {timeout_name, copy_name};
    PyObject *values[2] = {Py_None, Py_True};
    if (check_bound() < 0 || parse("recv", args, nargs, kwnames, names, values, 2, 0) < 0)
        return NULL;
    return gate_recv_impl(self, values[0], values[1], 0);
}

static PyObject *
gate_recv_part(Gate *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *names[2] = {timeout_name, copy_name};
    PyObject *values[2] = {Py_None, Py_True};
    if (check_bound() < 0 || parse("recv_part", args, nargs, kwnames, names, values, 2, 0) < 0)
        return NULL;
    return gate_recv_impl(self, values[0], values[1], 1);
}

static PyObject *
gate_send(Gate *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static PyObject *data_name = NULL;
    if (data_name == NULL && (data_name = PyUnicode_InternFromString("data")) == NULL)
        return NULL;
    PyObject *names[2] = {data_name, timeout_name};
    PyObject *values[2] = {NULL, Py_None};
    if (check_bound() < 0 || parse("send", args, nargs, kwnames, names, values, 2, 1) < 0)
        return NULL;
    return gate_send_impl(self, values[0], values[1]);
}

static PyObject *
gate_try_recv(Gate *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_bound() < 0)
        return NULL;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "try_recv(copy, part=False) takes 1 or 2 arguments");
        return NULL;
    }
    int part = 0;
    if (nargs == 2 && (part = PyObject_IsTrue(args[1])) < 0)
        return NULL;
    return gate_try_recv_impl(self, args[0], part);
}

static PyObject *
gate_try_send(Gate *self, PyObject *frames)
{
    if (check_bound() < 0)
        return NULL;
    return gate_try_send_impl(self, frames);
}

static PyMethodDef gate_methods[] = {
    {"on_fd", (PyCFunction)gate_on_fd, METH_NOARGS,
     "on_fd()\n--\n\nThe io watcher fired (in the hub): serve the parked receivers, or "
     "hand over to _on_fd_slow()."},
    {"recv", (PyCFunction)(void (*)(void))gate_recv, METH_FASTCALL | METH_KEYWORDS,
     "recv(timeout=None, copy=True)\n--\n\nReceive one whole message, waiting cooperatively "
     "if it must (gzmq._fastpath.Gate.recv)."},
    {"send", (PyCFunction)(void (*)(void))gate_send, METH_FASTCALL | METH_KEYWORDS,
     "send(data, timeout=None)\n--\n\nSend one whole message, waiting cooperatively if it "
     "must (gzmq._fastpath.Gate.send)."},
    {"recv_part", (PyCFunction)(void (*)(void))gate_recv_part, METH_FASTCALL | METH_KEYWORDS,
     "recv_part(timeout=None, copy=True)\n--\n\nReceive one frame, waiting cooperatively if "
     "it must (gzmq._fastpath.Gate.recv_part)."},
    {"try_recv", (PyCFunction)(void (*)(void))gate_try_recv, METH_FASTCALL,
     "try_recv(copy, part=False)\n--\n\nOne receive attempt for the head of the readers "
     "queue: the message (part: (frame, more)), None on EAGAIN."},
    {"try_send", (PyCFunction)gate_try_send, METH_O,
     "try_send(frames)\n--\n\nOne send attempt for the head of the writers queue: True when "
     "sent, False on EAGAIN."},
    {NULL},
};

static PyMemberDef gate_members[] = {
    {"owner", T_LONG, offsetof(Gate, owner), 0,
     "the owning thread's ident, or a negative sentinel (closed, lent, forked)"},
    {"readers", T_OBJECT, offsetof(Gate, readers), 0, "parked receivers (a deque)"},
    {"writers", T_OBJECT, offsetof(Gate, writers), 0, "parked senders (a deque)"},
    {"streak", T_PYSSIZET, offsetof(Gate, streak), 0, "completions without a hub switch"},
    {"polling", T_PYSSIZET, offsetof(Gate, polling), 0,
     "polls and readiness waits parked on the socket"},
    {"closed", T_BOOL, offsetof(Gate, closed), 0, "whether the socket is closed"},
    {"_watching", T_BOOL, offsetof(Gate, watching), 0, "whether the io watcher is started"},
    {"_watcher", T_OBJECT, offsetof(Gate, watcher), 0, "gevent's io watcher on ZMQ_FD"},
    {"hub", T_OBJECT, offsetof(Gate, hub), 0, "the owning thread's gevent hub"},
    {"receive_timeout", T_INT, offsetof(Gate, receive_timeout), 0, "ms, as ZMQ_RCVTIMEO"},
    {"send_timeout", T_INT, offsetof(Gate, send_timeout), 0, "ms, as ZMQ_SNDTIMEO"},
    {NULL},
};

static PyTypeObject GateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gzmq._speedups.Gate",
    .tp_doc = "The fields and the fast-path decision of a socket's cooperative core "
              "(gzmq._fastpath.Gate, in C).",
    .tp_basicsize = sizeof(Gate),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_traverse = (traverseproc)gate_traverse,
    .tp_clear = (inquiry)gate_clear,
    .tp_dealloc = (destructor)gate_dealloc,
    .tp_members = gate_members,
    .tp_getset = gate_getset,
    .tp_methods = gate_methods,
};

/* -- Method: send() and recv() of the socket classes, as C methods ----------
 *
 * A Python method costs a frame per call, about as much as the libzmq call
 * itself for a small message.  Method wraps the Python recv()/send() of
 * gzmq.socket.Readable/Writable, whose bodies are one call to the socket's
 * Gate: ``self._waiting.recv(timeout, copy)`` and, for a message of bytes,
 * ``self._waiting.send(message, timeout)``.  Method makes that call itself,
 * with no Python frame; any other call (a message to convert, an argument
 * it does not know) goes to the Python method.  It is a method descriptor
 * (Py_TPFLAGS_METHOD_DESCRIPTOR), so ``sock.recv()`` makes no bound method.
 */

#define METHOD_RECV 0
#define METHOD_SEND 1
#define METHOD_GREEN_RECV 2 /* gzmq.green.Socket.recv(flags=0, copy=True, track=False) */
#define METHOD_GREEN_SEND 3 /* gzmq.green.Socket.send(data, flags=0, copy=True, ...) */

static PyObject *g_name, *sstash_name, *waiting_slot_name, *zero;

/* The last Gate subclass seen (gzmq._waiting.Waiting): an exact type check
 * first, before PyObject_TypeCheck's walk of the MRO. */
static PyTypeObject *gate_subtype = NULL;

static inline int
is_gate(PyObject *object)
{
    PyTypeObject *type = Py_TYPE(object);
    if (type == gate_subtype)
        return 1;
    if (!PyObject_TypeCheck(object, &GateType))
        return 0;
    gate_subtype = type; /* borrowed: a socket class lives as long as the program */
    return 1;
}

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *function; /* the Python method: every call Method does not take */
    int kind;
} Method;


/* gzmq.green's recv()/send() of one frame, when the Python method would call
 * the Gate at once: no keyword argument, ``flags`` 0 or NOBLOCK (timeout
 * None or 0), a bytes frame, and (send) no frame-by-frame message open on
 * the socket.  NULL with no exception set: let the Python method do it. */
static PyObject *
green_call(Method *method, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int receiving = method->kind == METHOD_GREEN_RECV;
    Py_ssize_t base = receiving ? 1 : 2;
    if (kwnames != NULL || nargs < base || nargs > base + 1)
        return NULL;
    PyObject *timeout = Py_None;
    if (nargs == base + 1) {
        PyObject *flags = args[base];
        if (!PyLong_CheckExact(flags))
            return NULL;
        long value = PyLong_AsLong(flags);
        if (value == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return NULL;
        }
        if (value == GZMQ_DONTWAIT)
            timeout = zero;
        else if (value != 0)
            return NULL;
    }
    if (!receiving && !PyBytes_CheckExact(args[1]))
        return NULL;
    PyObject *state = PyObject_GetAttr(args[0], g_name);
    if (state == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (!receiving) {
        PyObject *stash = PyObject_GetAttr(state, sstash_name);
        int open = stash == NULL || !PyDict_CheckExact(stash) || PyDict_GET_SIZE(stash) != 0;
        Py_XDECREF(stash);
        if (open) {
            PyErr_Clear();
            Py_DECREF(state);
            return NULL;
        }
    }
    PyObject *waiting = PyObject_GetAttr(state, waiting_slot_name);
    Py_DECREF(state);
    if (waiting == NULL || !is_gate(waiting)) {
        PyErr_Clear();
        Py_XDECREF(waiting);
        return NULL;
    }
    PyObject *result = receiving ? gate_recv_impl((Gate *)waiting, timeout, Py_True, 1)
                                 : gate_send_impl((Gate *)waiting, args[1], timeout);
    Py_DECREF(waiting);
    if (result == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "gzmq's green fast path failed without an error");
    return result;
}

static PyObject *
method_vectorcall(Method *method, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (method->kind >= METHOD_GREEN_RECV) {
        PyObject *result = z_send == NULL ? NULL : green_call(method, args, nargs, kwnames);
        if (result != NULL || PyErr_Occurred())
            return result;
        return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
    }
    int receiving = method->kind == METHOD_RECV;
    Py_ssize_t positional = receiving ? 1 : 2;
    if (nargs != positional || z_send == NULL)
        return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
    PyObject *timeout = Py_None, *copy = Py_True;
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t k = 0; k < nkw; k++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, k);
            if (key == timeout_name)
                timeout = args[nargs + k];
            else if (receiving && key == copy_name)
                copy = args[nargs + k];
            else
                return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
        }
    }
    PyObject *data = receiving ? NULL : args[1];
    if (!receiving && !PyBytes_CheckExact(data) && !all_bytes(data))
        return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
    PyObject *waiting = PyObject_GetAttr(args[0], waiting_name);
    if (waiting == NULL)
        return NULL;
    if (!is_gate(waiting)) {
        Py_DECREF(waiting);
        return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
    }
    PyObject *result = receiving ? gate_recv_impl((Gate *)waiting, timeout, copy, 0)
                                 : gate_send_impl((Gate *)waiting, data, timeout);
    Py_DECREF(waiting);
    return result;
}

static PyObject *
method_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *function;
    const char *kind_name;
    static char *keywords[] = {"function", "kind", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Os:Method", keywords, &function,
                                     &kind_name))
        return NULL;
    int kind;
    if (strcmp(kind_name, "recv") == 0)
        kind = METHOD_RECV;
    else if (strcmp(kind_name, "send") == 0)
        kind = METHOD_SEND;
    else if (strcmp(kind_name, "green_recv") == 0)
        kind = METHOD_GREEN_RECV;
    else if (strcmp(kind_name, "green_send") == 0)
        kind = METHOD_GREEN_SEND;
    else {
        PyErr_Format(PyExc_ValueError,
                     "kind must be 'recv', 'send', 'green_recv' or 'green_send', not '%s'",
                     kind_name);
        return NULL;
    }
    if (!PyCallable_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "Method(function, kind) needs a callable");
        return NULL;
    }
    Method *method = (Method *)type->tp_alloc(type, 0);
    if (method == NULL)
        return NULL;
    method->vectorcall = (vectorcallfunc)method_vectorcall;
    method->function = Py_NewRef(function);
    method->kind = kind;
    return (PyObject *)method;
}

static PyObject *
method_descr_get(PyObject *self, PyObject *instance, PyObject *owner)
{
    if (instance == NULL || instance == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, instance);
}

static int
method_traverse(Method *self, visitproc visit, void *arg)
{
    Py_VISIT(self->function);
    return 0;
}

static int
method_clear(Method *self)
{
    Py_CLEAR(self->function);
    return 0;
}

static void
method_dealloc(Method *self)
{
    PyObject_GC_UnTrack(self);
    method_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* __doc__, __name__, __qualname__, __module__ are the Python method's, so
 * that help() and inspect (which follows __wrapped__) show the real thing. */
static PyObject *
method_get_wrapped_attribute(Method *self, void *name)
{
    return PyObject_GetAttrString(self->function, (const char *)name);
}

static PyObject *
method_repr(Method *self)
{
    return PyUnicode_FromFormat("<gzmq accelerated method %R>", self->function);
}

static PyMemberDef method_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(Method, function), READONLY,
     "the Python method this one accelerates"},
    {NULL},
};

static PyGetSetDef method_getset[] = {
    {"__doc__", (getter)method_get_wrapped_attribute, NULL, NULL, "__doc__"},
    {"__name__", (getter)method_get_wrapped_attribute, NULL, NULL, "__name__"},
    {"__qualname__", (getter)method_get_wrapped_attribute, NULL, NULL, "__qualname__"},
    {"__module__", (getter)method_get_wrapped_attribute, NULL, NULL, "__module__"},
    {NULL},
};

static PyTypeObject MethodType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gzmq._speedups.Method",
    .tp_doc = "Method(function, kind)\n--\n\n"
              "send() or recv() of a socket class, calling its Gate without a Python frame.",
    .tp_basicsize = sizeof(Method),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
                | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_vectorcall_offset = offsetof(Method, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = method_new,
    .tp_descr_get = method_descr_get,
    .tp_traverse = (traverseproc)method_traverse,
    .tp_clear = (inquiry)method_clear,
    .tp_dealloc = (destructor)method_dealloc,
    .tp_repr = (reprfunc)method_repr,
    .tp_members = method_members,
    .tp_getset = method_getset,
};

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *deque, *recv_frames, *send_frames, *cost_of, *getcurrent;
    Py_ssize_t limit, large;
    int shift;
    if (!PyArg_ParseTuple(args, "OninOOOO:configure", &deque, &limit, &shift, &large,
                          &recv_frames, &send_frames, &cost_of, &getcurrent))
        return NULL;
    Py_XSETREF(getcurrent_function, Py_NewRef(getcurrent));
    if (!PyType_Check(deque)) {
        PyErr_SetString(PyExc_TypeError, "configure() needs the deque type");
        return NULL;
    }
    Py_XSETREF(deque_type, (PyTypeObject *)Py_NewRef(deque));
    Py_XSETREF(recv_frames_function, Py_NewRef(recv_frames));
    Py_XSETREF(send_frames_function, Py_NewRef(send_frames));
    Py_XSETREF(cost_of_function, Py_NewRef(cost_of));
    fairness_limit = limit;
    cost_shift = shift;
    large_message = large;
    Py_RETURN_NONE;
}

static PyMethodDef speedups_methods[] = {
    {"bind", (PyCFunction)bind, METH_VARARGS,
     "bind(getsockopt, msg_init, msg_recv, msg_close, msg_data, msg_size, msg_more, send, "
     "msg_init_data, msg_send)\n--\n\n"
     "Use the libzmq functions found at these addresses."},
    {"getsockopt_int", (PyCFunction)(void (*)(void))getsockopt_int, METH_FASTCALL,
     "getsockopt_int(handle, option)\n--\n\nAn int option of a socket, or -errno on failure."},
    {"recv_message", (PyCFunction)recv_message, METH_O,
     "recv_message(handle)\n--\n\nOne whole message as a list of bytes (DONTWAIT); "
     "None on EAGAIN, -errno on failure."},
    {"release_pending", (PyCFunction)release_pending_now, METH_NOARGS,
     "release_pending()\n--\n\nDrop the references to large frames libzmq has finished "
     "sending (done by every send and receive anyway)."},
    {"want_release", (PyCFunction)want_release, METH_NOARGS,
     "want_release()\n--\n\nAfter a close: the fd to watch until the large frames in flight "
     "are released (see on_release), or -1 when none are."},
    {"on_release", (PyCFunction)on_release, METH_NOARGS,
     "on_release()\n--\n\nThe fd from want_release() is readable: reset it, drop the "
     "released frames; whether more are in flight."},
    {"after_fork", (PyCFunction)after_fork, METH_NOARGS,
     "after_fork()\n--\n\nIn a forked child: renew the lock and the eventfd of released "
     "frames."},
    {"configure", (PyCFunction)configure, METH_VARARGS,
     "configure(deque, fairness_limit, cost_shift, large_message, recv_frames, send_frames, "
     "cost_of)\n--\n\nThe queue type, the fairness budget and gzmq._fastpath's pyzmq "
     "helpers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "gzmq._speedups",
    "The fast path of gzmq's cooperative core, calling libzmq directly.",
    -1, speedups_methods,
};

static int
intern(PyObject **slot, const char *text)
{
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&GateType) < 0 || PyType_Ready(&MethodType) < 0
        || PyType_Ready(&ParkedType) < 0)
        return NULL;
    if (held_lock == NULL && (held_lock = PyThread_allocate_lock()) == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (release_fd < 0)
        release_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* -1: release on the next call */
    if (intern(&refresh_name, "refresh") < 0 || intern(&wait_recv_name, "wait_recv") < 0
        || intern(&wait_send_name, "wait_send") < 0
        || intern(&wrong_owner_name, "wrong_owner") < 0
        || intern(&fail_errno_name, "fail_errno") < 0
        || intern(&partial_send_name, "partial_send") < 0 || intern(&hold_name, "hold") < 0
        || intern(&open_read_name, "open_read") < 0
        || intern(&socket_name, "socket") < 0 || intern(&waiting_name, "_waiting") < 0
        || intern(&timeout_name, "timeout") < 0 || intern(&copy_name, "copy") < 0
        || intern(&g_name, "_g") < 0 || intern(&sstash_name, "sstash") < 0
        || intern(&waiting_slot_name, "waiting") < 0 || intern(&switch_name, "switch") < 0
        || intern(&resume_name, "resume") < 0 || intern(&append_name, "append") < 0
        || intern(&popleft_name, "popleft") < 0
        || intern(&start_watching_name, "_start_watching") < 0
        || intern(&stop_watching_name, "_stop_watching") < 0
        || intern(&wait_parked_name, "wait_parked") < 0
        || intern(&finish_wait_name, "finish_wait") < 0
        || intern(&took_part_name, "_took_part") < 0
        || intern(&on_fd_slow_name, "_on_fd_slow") < 0
        || intern(&deliver_name, "_deliver") < 0
        || intern(&switch_into_name, "_switch_into") < 0
        || intern(&closed_error_name, "closed_error") < 0)
        return NULL;
    if ((zero = PyLong_FromLong(0)) == NULL)
        return NULL;
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&GateType);
    if (PyModule_AddObject(module, "Gate", (PyObject *)&GateType) < 0) {
        Py_DECREF(&GateType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&ParkedType);
    if (PyModule_AddObject(module, "Parked", (PyObject *)&ParkedType) < 0) {
        Py_DECREF(&ParkedType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&MethodType);
    if (PyModule_AddObject(module, "Method", (PyObject *)&MethodType) < 0) {
        Py_DECREF(&MethodType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
