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
 *   send_message(handle, frames)   -> 0, None on EAGAIN, -errno (nothing sent),
 *                                     (sent, errno) if a later frame failed,
 *                                     NotImplemented unless a non-empty list
 *                                     or tuple of bytes
 *   gate_recv(gate), gate_send(gate, data): the fast paths of recv() and
 *                                     send(), deciding from the Gate's C
 *                                     fields whether they may run (below)
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
#include <structmember.h>

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

static getsockopt_fn z_getsockopt = NULL;
static msg_init_fn z_msg_init = NULL;
static msg_recv_fn z_msg_recv = NULL;
static msg_close_fn z_msg_close = NULL;
static msg_data_fn z_msg_data = NULL;
static msg_size_fn z_msg_size = NULL;
static msg_more_fn z_msg_more = NULL;
static send_fn z_send = NULL;

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
    PyObject *a[8];
    if (!PyArg_ParseTuple(args, "OOOOOOOO:bind", &a[0], &a[1], &a[2], &a[3],
                          &a[4], &a[5], &a[6], &a[7]))
        return NULL;
    void *p[8];
    for (int i = 0; i < 8; i++)
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

/* One whole message from ``handle`` (DONTWAIT): a list of bytes, None on
 * EAGAIN, or -errno. */
static PyObject *
receive_whole(void *handle)
{
    gzmq_msg_t msg;
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

static PyObject *
send_message(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *handle;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "send_message(handle, frames) takes 2 arguments");
        return NULL;
    }
    if (check_bound() < 0 || pointer_of(args[0], &handle) < 0)
        return NULL;
    PyObject *frames = args[1];
    if (!PyList_CheckExact(frames) && !PyTuple_CheckExact(frames))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(frames);
    PyObject **items = PySequence_Fast_ITEMS(frames);
    if (count == 0)
        Py_RETURN_NOTIMPLEMENTED;
    for (Py_ssize_t i = 0; i < count; i++)
        if (!PyBytes_CheckExact(items[i]))
            Py_RETURN_NOTIMPLEMENTED;
    /* Only the first frame may meet the high water mark: libzmq checks it at
     * message boundaries, so the rest of an accepted message goes through. */
    for (Py_ssize_t i = 0; i < count; i++) {
        int flags = GZMQ_DONTWAIT | (i + 1 < count ? GZMQ_SNDMORE : 0);
        if (z_send(handle, PyBytes_AS_STRING(items[i]),
                   (size_t)PyBytes_GET_SIZE(items[i]), flags) < 0) {
            int error = errno;
            if (i == 0) {
                if (error == EAGAIN)
                    Py_RETURN_NONE;
                return PyLong_FromLong(-(long)error);
            }
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
static Py_ssize_t fairness_limit = 512;
static int cost_shift = 8;
static Py_ssize_t large_message = 65536;
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

static PyObject *
gate_recv(PyObject *module, PyObject *object)
{
    void *handle;
    if (check_bound() < 0)
        return NULL;
    if (!PyObject_TypeCheck(object, &GateType)) {
        PyErr_SetString(PyExc_TypeError, "gate_recv() needs a Gate");
        return NULL;
    }
    Gate *gate = (Gate *)object;
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

static PyObject *
gate_send(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    void *handle;
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
    Gate *gate = (Gate *)args[0];
    PyObject *data = args[1];
    if (!PyBytes_CheckExact(data) || !may_pass(gate, gate->writers, &handle))
        Py_RETURN_NONE;
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    if (z_send(handle, PyBytes_AS_STRING(data), (size_t)size, GZMQ_DONTWAIT) < 0)
        return PyLong_FromLong(-(long)errno);
    gate->streak += size < large_message ? 1 + (size >> cost_shift) : fairness_limit;
    if (refresh_other(gate, gate->readers) < 0)
        return NULL;
    return PyLong_FromLong(0);
}

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
     "bind(getsockopt, msg_init, msg_recv, msg_close, msg_data, msg_size, msg_more, send)\n--\n\n"
     "Use the libzmq functions found at these addresses."},
    {"getsockopt_int", (PyCFunction)(void (*)(void))getsockopt_int, METH_FASTCALL,
     "getsockopt_int(handle, option)\n--\n\nAn int option of a socket, or -errno on failure."},
    {"recv_message", (PyCFunction)recv_message, METH_O,
     "recv_message(handle)\n--\n\nOne whole message as a list of bytes (DONTWAIT); "
     "None on EAGAIN, -errno on failure."},
    {"send_message", (PyCFunction)(void (*)(void))send_message, METH_FASTCALL,
     "send_message(handle, frames)\n--\n\nSend a list or tuple of bytes as one message "
     "(DONTWAIT): 0 when sent, None on EAGAIN, -errno on failure (nothing sent), "
     "(sent, errno) if a frame after the first failed, NotImplemented for other "
     "frames."},
    {"gate_recv", (PyCFunction)gate_recv, METH_O,
     "gate_recv(gate)\n--\n\nThe fast path of recv(): a list of bytes; None when it may "
     "not run (owner, parked receivers, fairness); -errno on failure (-EAGAIN too)."},
    {"gate_send", (PyCFunction)(void (*)(void))gate_send, METH_FASTCALL,
     "gate_send(gate, data)\n--\n\nThe fast path of send() for one bytes frame: 0 when "
     "sent; None when it may not run; -errno on failure (-EAGAIN too)."},
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
    if (PyType_Ready(&GateType) < 0)
        return NULL;
    refresh_name = PyUnicode_InternFromString("refresh");
    if (refresh_name == NULL)
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
    return module;
}
