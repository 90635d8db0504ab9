/* gzmq._speedups: integer getsockopt on a libzmq socket handle, for the hot path.
 *
 * pyzmq's Socket.get() converts its argument to an enum member and looks up
 * the option's type on every call (~0.7 us).  The cooperative core reads
 * ZMQ_RCVMORE after every received frame and ZMQ_EVENTS after operations that
 * may consume the ZMQ_FD edge, so it calls zmq_getsockopt directly.
 *
 * The module does not link against libzmq: gzmq._native resolves
 * zmq_getsockopt in the libzmq that pyzmq loaded and hands its address to
 * bind().  A failed call returns -errno so that the caller can fall back to
 * pyzmq for the proper exception.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stddef.h>

typedef int (*getsockopt_fn)(void *, int, void *, size_t *);

static getsockopt_fn zmq_getsockopt_ptr = NULL;

static PyObject *
bind_getsockopt(PyObject *module, PyObject *address)
{
    void *pointer = PyLong_AsVoidPtr(address);
    if (pointer == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "zmq_getsockopt address is NULL");
        return NULL;
    }
    zmq_getsockopt_ptr = (getsockopt_fn)pointer;
    Py_RETURN_NONE;
}

static PyObject *
getsockopt_int(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "getsockopt_int(handle, option) takes 2 arguments");
        return NULL;
    }
    if (zmq_getsockopt_ptr == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "zmq_getsockopt is not bound");
        return NULL;
    }
    void *handle = PyLong_AsVoidPtr(args[0]);
    if (handle == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "socket handle is NULL");
        return NULL;
    }
    long option = PyLong_AsLong(args[1]);
    if (option == -1 && PyErr_Occurred())
        return NULL;
    int value = 0;
    size_t size = sizeof(value);
    if (zmq_getsockopt_ptr(handle, (int)option, &value, &size) != 0)
        return PyLong_FromLong(-(long)errno);
    return PyLong_FromLong(value);
}

static PyMethodDef speedups_methods[] = {
    {"bind_getsockopt", (PyCFunction)bind_getsockopt, METH_O,
     "bind_getsockopt(address)\n--\n\nUse the zmq_getsockopt found at this address."},
    {"getsockopt_int", (PyCFunction)(void (*)(void))getsockopt_int, METH_FASTCALL,
     "getsockopt_int(handle, option)\n--\n\nAn int option of a socket, or -errno on failure."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "gzmq._speedups",
    "Integer getsockopt on a libzmq socket handle, for gzmq's hot path.",
    -1, speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
