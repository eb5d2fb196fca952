"""NMF tests use small matrices: one BLAS thread is faster (and kinder to a shared 2-core machine)."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _single_blas_thread():
    with threadpool_limits(1):
        yield
