"""A PEARL run killed mid-arm (after a checkpoint) and resumed gives bit-identical results and metrics."""

from paperlab.core.testing import check_exact_resume


def test_context_sampling_resumes_exactly(tmp_path, monkeypatch):
    import paperlab.rl.pearl.experiments as experiments

    monkeypatch.setattr(experiments, "CHECKPOINT_EVERY", 1)
    check_exact_resume("pearl", "context-sampling", tmp_path, 3,
                       overrides={"num_iterations": "4", "arms": "recent"})
