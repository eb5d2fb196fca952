"""A SIREN run killed at an arbitrary step and resumed gives bit-identical results and metrics,
including with random-coordinate batches (the sampler's generator is checkpointed)."""

import pytest

from paperlab.core.testing import check_exact_resume


@pytest.mark.parametrize("kill_after", [7, 13])
def test_image_fit_random_batches_resumes_exactly(tmp_path, kill_after):
    overrides = {"methods": "siren,relu", "steps": "12", "batch_size": "64", "checkpoint_every": "5",
                 "log_every": "1"}
    results = check_exact_resume("siren", "image-fit", tmp_path, kill_after, overrides=overrides)
    curve = results["methods"]["siren"]["curve"]
    assert curve["step"][0] == 0 and len(curve["step"]) == 12  # the whole curve, not from the resume step


def test_sdf_resumes_exactly(tmp_path):
    check_exact_resume("siren", "sdf-2d", tmp_path, 7, overrides={"steps": "10", "checkpoint_every": "4",
                                                                   "log_every": "1"})


def test_prior_resumes_exactly(tmp_path):
    check_exact_resume("siren", "prior", tmp_path, 6, overrides={"steps": "8", "checkpoint_every": "3",
                                                                 "log_every": "1", "methods": "cnp"})
