"""Build script: metadata lives in setup.cfg; this adds the optional C accelerator."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("gzmq._speedups", ["gzmq/_speedups.c"], optional=True),
    ],
)
