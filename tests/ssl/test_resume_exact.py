"""An SSL run killed mid-pre-training (after a checkpoint) or between evaluations and resumed gives
bit-identical results and metrics."""

import pytest

from paperlab.core.testing import check_exact_resume


@pytest.mark.parametrize("kill_after", [2, 4])
def test_granularity_resumes_exactly(tmp_path, kill_after):
    check_exact_resume("ssl", "granularity", tmp_path, kill_after, overrides={"cache_pretrained": "false", "pretrain_steps": "12"})
