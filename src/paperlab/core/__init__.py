"""The foundation shared by every paper: configs, seeding, runs, claims, sweeps, reports."""
