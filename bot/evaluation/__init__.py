"""Evaluation: the benchmark harness behind ``python -m bot eval``, and the calibration
that fits the confidence model's data file. Scripts and benchmarks use these modules'
public functions."""
