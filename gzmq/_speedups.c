/* gzmq._speedups: the hot path of the cooperative core, in C.
 *
 * pyzmq's Socket.get() converts its argument to an enum member and looks up
 * the option's type on every call (~0.7 us), and a message received frame by
 * frame costs a Python call per frame plus a getsockopt(RCVMORE).  The core
 * reads ZMQ_EVENTS after operations that may consume the ZMQ_FD edge, and
 * receives whole messages, so it calls libzmq directly here:
 *
 *   getsockopt_int(handle, option) -> value, or -errno
 *   recv_message(handle)           -> list of bytes, None on EAGAIN, or -errno
 *   gate_recv(gate), gate_send(gate, data): the fast paths of recv() and
 *                                     send(), deciding from the Gate's C
 *                                     fields whether they may run (below)
 *   Method(function, after, kind)     the socket classes' recv()/send() with
 *                                     that fast path and no Python frame
 *
 * All calls use ZMQ_DONTWAIT and never block.  The module does not link
 * against libzmq: gzmq._native resolves the functions in the libzmq that
 * pyzmq loaded and hands their addresses to bind().  The caller guarantees
 * the handle is a live socket owned by the calling thread.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>
#include <pythread.h>

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
static held_t *held_list = NULL;
static volatile int held_any = 0;

static void
release_later(void *data, void *hint)
{
    held_t *node = (held_t *)hint;
    PyThread_acquire_lock(held_lock, WAIT_LOCK);
    node->next = held_list;
    held_list = node;
    held_any = 1;
    PyThread_release_lock(held_lock);
}

/* Drop the references libzmq has finished with (the GIL is held). */
static void
release_pending(void)
{
    if (!held_any)
        return; /* a stale read only delays the release to the next call */
    PyThread_acquire_lock(held_lock, WAIT_LOCK);
    held_t *node = held_list;
    held_list = NULL;
    held_any = 0;
    PyThread_release_lock(held_lock);
    while (node != NULL) {
        held_t *next = node->next;
        Py_DECREF(node->object);
        PyMem_RawFree(node);
        node = next;
    }
}

static PyObject *
release_pending_now(PyObject *module, PyObject *unused)
{
    release_pending();
    Py_RETURN_NONE;
}

/* In a forked child: the lock may have been held by a thread that is gone. */
static PyObject *
after_fork(PyObject *module, PyObject *unused)
{
    held_lock = PyThread_allocate_lock(); /* the parent's copy is abandoned */
    if (held_lock == NULL)
        return PyErr_NoMemory();
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
    gzmq_msg_t msg;
    if (z_msg_init_data(&msg, PyBytes_AS_STRING(data), (size_t)size, release_later, node) != 0) {
        int error = errno;
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

/* -- Gate: the state the fast paths read, as C fields ----------------------
 *
 * gzmq._waiting.Waiting subclasses Gate, so that gate_recv() and gate_send()
 * decide whether the fast path may run by reading C fields instead of making
 * the Python method do half a dozen attribute loads:
 *   handle   the libzmq socket's address (int)
 *   owner    the owning thread's ident (int; a negative sentinel when closed
 *            or lent, which never equals a thread's ident)
 *   readers, writers  the deques of parked greenlets
 *   streak   consecutive immediate completions (the fairness budget)
 */

typedef struct {
    PyObject_HEAD
    PyObject *handle;
    PyObject *owner;
    PyObject *readers;
    PyObject *writers;
    Py_ssize_t streak;
} Gate;

static PyTypeObject *deque_type = NULL;
static PyObject *refresh_name = NULL;

static int
gate_traverse(Gate *self, visitproc visit, void *arg)
{
    Py_VISIT(self->handle);
    Py_VISIT(self->owner);
    Py_VISIT(self->readers);
    Py_VISIT(self->writers);
    return 0;
}

static int
gate_clear(Gate *self)
{
    Py_CLEAR(self->handle);
    Py_CLEAR(self->owner);
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

static PyMemberDef gate_members[] = {
    {"handle", T_OBJECT, offsetof(Gate, handle), 0, "the libzmq socket's address"},
    {"owner", T_OBJECT, offsetof(Gate, owner), 0, "the owning thread's ident"},
    {"readers", T_OBJECT, offsetof(Gate, readers), 0, "parked receivers (a deque)"},
    {"writers", T_OBJECT, offsetof(Gate, writers), 0, "parked senders (a deque)"},
    {"streak", T_PYSSIZET, offsetof(Gate, streak), 0, "consecutive immediate completions"},
    {NULL},
};

static PyTypeObject GateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gzmq._speedups.Gate",
    .tp_doc = "The fields the C fast paths read (the base class of gzmq's Waiting).",
    .tp_basicsize = sizeof(Gate),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_traverse = (traverseproc)gate_traverse,
    .tp_clear = (inquiry)gate_clear,
    .tp_dealloc = (destructor)gate_dealloc,
    .tp_members = gate_members,
};

/* Whether the fast path may run on ``gate`` for the direction whose queue is
 * ``queue``: this thread owns the socket, nobody of that direction is parked,
 * and the fairness budget is not spent.  Sets *handle. */
static int
may_pass(Gate *gate, PyObject *queue, void **handle)
{
    PyObject *owner = gate->owner;
    if (queue == NULL || Py_TYPE(queue) != deque_type || Py_SIZE(queue) != 0)
        return 0;
    if (gate->streak >= fairness_limit || owner == NULL || !PyLong_CheckExact(owner))
        return 0;
    if (PyLong_AsUnsignedLongMask(owner) != PyThread_get_thread_ident())
        return 0;
    if (gate->handle == NULL)
        return 0;
    void *pointer = PyLong_AsVoidPtr(gate->handle);
    if (pointer == NULL) {
        PyErr_Clear();
        return 0;
    }
    *handle = pointer;
    return 1;
}

/* After an immediate completion: if the other direction has parked greenlets,
 * the call may have consumed their ZMQ_FD edge; let Python re-check them. */
static int
refresh_other(Gate *gate, PyObject *other)
{
    if (other == NULL || Py_TYPE(other) != deque_type || Py_SIZE(other) == 0)
        return 0;
    PyObject *result = PyObject_CallMethodNoArgs((PyObject *)gate, refresh_name);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

/* The fast path of recv() on ``gate``: a list of bytes; None when it may not
 * run (owner, parked receivers, fairness); -errno on failure (-EAGAIN too). */
static PyObject *
gate_try_recv(Gate *gate)
{
    void *handle;
    if (!may_pass(gate, gate->readers, &handle))
        Py_RETURN_NONE;
    PyObject *message = receive_whole(handle);
    if (message == Py_None) {
        Py_DECREF(message);
        return PyLong_FromLong(-(long)EAGAIN);
    }
    if (message != NULL && PyList_CheckExact(message)) {
        gate->streak += 1;
        if (refresh_other(gate, gate->writers) < 0) {
            Py_DECREF(message);
            return NULL;
        }
    }
    return message;
}

/* The fast path of send() of ``data`` (bytes, or a list or tuple of bytes)
 * on ``gate``: 0 when sent; None when it may not run (other frames, owner,
 * parked senders, fairness); -errno on failure, nothing sent (-EAGAIN too);
 * (sent, errno) if a frame after the first failed. */
static PyObject *
gate_try_send(Gate *gate, PyObject *data)
{
    void *handle;
    if (PyBytes_CheckExact(data)) {
        if (!may_pass(gate, gate->writers, &handle))
            Py_RETURN_NONE;
        Py_ssize_t size = PyBytes_GET_SIZE(data);
        if (send_bytes(handle, data, GZMQ_DONTWAIT) < 0)
            return PyLong_FromLong(-(long)errno);
        gate->streak += 1 + (size >> cost_shift);
    }
    else {
        if (!all_bytes(data) || !may_pass(gate, gate->writers, &handle))
            Py_RETURN_NONE;
        PyObject *sent = send_frames(handle, data);
        if (sent == NULL || !PyLong_CheckExact(sent) || PyLong_AsLong(sent) != 0)
            return sent; /* -errno, or (sent, errno) after a partial send */
        Py_DECREF(sent);
        gate->streak += 1;
    }
    if (refresh_other(gate, gate->readers) < 0)
        return NULL;
    return PyLong_FromLong(0);
}

static PyObject *
gate_recv(PyObject *module, PyObject *object)
{
    if (check_bound() < 0)
        return NULL;
    if (!PyObject_TypeCheck(object, &GateType)) {
        PyErr_SetString(PyExc_TypeError, "gate_recv() needs a Gate");
        return NULL;
    }
    return gate_try_recv((Gate *)object);
}

static PyObject *
gate_send(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "gate_send(gate, data) takes 2 arguments");
        return NULL;
    }
    if (check_bound() < 0)
        return NULL;
    if (!PyObject_TypeCheck(args[0], &GateType)) {
        PyErr_SetString(PyExc_TypeError, "gate_send() needs a Gate");
        return NULL;
    }
    return gate_try_send((Gate *)args[0], args[1]);
}

/* -- Method: send() and recv() of the socket classes, as C methods ----------
 *
 * A Python method costs a frame per call, about as much as the libzmq call
 * itself for a small message.  Method wraps the Python method of
 * gzmq.socket.Readable/Writable: a call with no keyword arguments runs the
 * gate (as gate_recv/gate_send) without a Python frame; a message it
 * completes is returned at once; a receive the gate declined goes straight
 * to ``self._waiting.wait_recv(None, True)``; otherwise ``after(self, code)``
 * (recv) or ``after(self, data, code)`` (send) carries on in Python, where
 * code is None when the gate declined and -errno when libzmq failed.
 * Any other call goes to the Python method unchanged.  It is a method
 * descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR), so ``sock.recv()`` makes no
 * bound method object.
 */

#define METHOD_RECV 0
#define METHOD_SEND 1

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *function; /* the Python method: every call the gate does not take */
    PyObject *after;    /* after(self, code) / after(self, data, code) */
    int kind;
} Method;

static PyObject *waiting_name = NULL;
static PyObject *wait_recv_name = NULL;

static PyObject *
method_call_after(Method *method, PyObject *self, PyObject *data, PyObject *code)
{
    if (method->kind == METHOD_RECV) {
        PyObject *args[2] = {self, code};
        return PyObject_Vectorcall(method->after, args, 2, NULL);
    }
    PyObject *args[3] = {self, data, code};
    return PyObject_Vectorcall(method->after, args, 3, NULL);
}

static PyObject *
method_vectorcall(Method *method, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int receiving = method->kind == METHOD_RECV;
    if (kwnames != NULL || nargs != (receiving ? 1 : 2) || z_send == NULL)
        return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
    PyObject *self = args[0];
    PyObject *waiting = PyObject_GetAttr(self, waiting_name);
    if (waiting == NULL)
        return NULL;
    if (!PyObject_TypeCheck(waiting, &GateType)) {
        Py_DECREF(waiting);
        return PyObject_Vectorcall(method->function, args, nargsf, kwnames);
    }
    PyObject *data = receiving ? NULL : args[1];
    PyObject *code = receiving ? gate_try_recv((Gate *)waiting)
                               : gate_try_send((Gate *)waiting, data);
    if (code == NULL || (receiving && PyList_CheckExact(code))) {
        Py_DECREF(waiting);
        return code; /* the message, or an error */
    }
    if (receiving && code == Py_None) {
        /* Declined (parked receivers, fairness, owner, closed): straight to
         * the waiting receive, as recv() would go (one Python frame less on
         * the loop of a greenlet sharing a socket). */
        Py_DECREF(code);
        PyObject *result = PyObject_CallMethodObjArgs(
            waiting, wait_recv_name, Py_None, Py_True, NULL);
        Py_DECREF(waiting);
        return result;
    }
    Py_DECREF(waiting);
    if (!receiving && PyLong_CheckExact(code) && PyLong_AsLong(code) == 0) {
        Py_DECREF(code); /* sent */
        Py_RETURN_NONE;
    }
    PyObject *result = method_call_after(method, self, data, code);
    Py_DECREF(code);
    return result;
}

static PyObject *
method_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *function, *after;
    const char *kind_name;
    static char *keywords[] = {"function", "after", "kind", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOs:Method", keywords,
                                     &function, &after, &kind_name))
        return NULL;
    int kind;
    if (strcmp(kind_name, "recv") == 0)
        kind = METHOD_RECV;
    else if (strcmp(kind_name, "send") == 0)
        kind = METHOD_SEND;
    else {
        PyErr_Format(PyExc_ValueError, "kind must be 'recv' or 'send', not '%s'", kind_name);
        return NULL;
    }
    if (!PyCallable_Check(function) || !PyCallable_Check(after)) {
        PyErr_SetString(PyExc_TypeError, "Method(function, after, kind) needs two callables");
        return NULL;
    }
    Method *method = (Method *)type->tp_alloc(type, 0);
    if (method == NULL)
        return NULL;
    method->vectorcall = (vectorcallfunc)method_vectorcall;
    method->function = Py_NewRef(function);
    method->after = Py_NewRef(after);
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
    Py_VISIT(self->after);
    return 0;
}

static int
method_clear(Method *self)
{
    Py_CLEAR(self->function);
    Py_CLEAR(self->after);
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
    .tp_doc = "Method(function, after, kind)\n--\n\n"
              "send() or recv() of a socket class, with the gate's fast path in C.",
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
    PyObject *deque;
    Py_ssize_t limit, large;
    int shift;
    if (!PyArg_ParseTuple(args, "Onin:configure", &deque, &limit, &shift, &large))
        return NULL;
    if (!PyType_Check(deque)) {
        PyErr_SetString(PyExc_TypeError, "configure() needs the deque type");
        return NULL;
    }
    Py_INCREF(deque);
    Py_XSETREF(deque_type, (PyTypeObject *)deque);
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
    {"gate_recv", (PyCFunction)gate_recv, METH_O,
     "gate_recv(gate)\n--\n\nThe fast path of recv(): a list of bytes; None when it may "
     "not run (owner, parked receivers, fairness); -errno on failure (-EAGAIN too)."},
    {"gate_send", (PyCFunction)(void (*)(void))gate_send, METH_FASTCALL,
     "gate_send(gate, data)\n--\n\nThe fast path of send() for bytes or a list or tuple of "
     "bytes: 0 when sent; None when it may not run; -errno on failure, nothing sent (-EAGAIN "
     "too); (sent, errno) if a frame after the first failed."},
    {"release_pending", (PyCFunction)release_pending_now, METH_NOARGS,
     "release_pending()\n--\n\nDrop the references to large frames libzmq has finished "
     "sending (done by every send and receive anyway)."},
    {"after_fork", (PyCFunction)after_fork, METH_NOARGS,
     "after_fork()\n--\n\nIn a forked child: renew the lock of the released-frames list."},
    {"configure", (PyCFunction)configure, METH_VARARGS,
     "configure(deque, fairness_limit, cost_shift, large_message)\n--\n\n"
     "The queue type and the fairness budget the fast paths use."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "gzmq._speedups",
    "The hot path of gzmq's cooperative core, calling libzmq directly.",
    -1, speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&GateType) < 0 || PyType_Ready(&MethodType) < 0)
        return NULL;
    if (held_lock == NULL && (held_lock = PyThread_allocate_lock()) == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    refresh_name = PyUnicode_InternFromString("refresh");
    waiting_name = PyUnicode_InternFromString("_waiting");
    wait_recv_name = PyUnicode_InternFromString("wait_recv");
    if (refresh_name == NULL || waiting_name == NULL || wait_recv_name == NULL)
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
    Py_INCREF(&MethodType);
    if (PyModule_AddObject(module, "Method", (PyObject *)&MethodType) < 0) {
        Py_DECREF(&MethodType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
