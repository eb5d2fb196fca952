import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """RL code runs one torch thread per process (2 threads on 2 shared cores is several times slower)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
