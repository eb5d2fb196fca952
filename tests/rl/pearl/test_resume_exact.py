"""A PEARL run killed mid-arm (after a checkpoint) or between arms and resumed gives bit-identical results
and metrics."""

import pytest

from paperlab.core.testing import check_exact_resume


@pytest.mark.parametrize("kill_after,arms,eval_seeds", [(3, "recent", "1"), (5, "recent,whole-buffer", "2")])
def test_context_sampling_resumes_exactly(tmp_path, monkeypatch, kill_after, arms, eval_seeds):
    import paperlab.rl.pearl.experiments as experiments

    monkeypatch.setattr(experiments, "CHECKPOINT_EVERY", 1)
    check_exact_resume("pearl", "context-sampling", tmp_path, kill_after,
                       overrides={"num_iterations": "4", "arms": arms, "eval_seeds": eval_seeds})
