"""paperlab: working, tested, fast implementations of papers, with their claims checked by running them."""

__version__ = "0.1.0"


def load(run_dir, name=None, device="cpu"):
    """A trained model of a finished run, ready to use: see :func:`paperlab.core.models.load`."""
    from paperlab.core.models import load as load_model  # here, so `import paperlab` (the CLI) stays light

    return load_model(run_dir, name, device)
