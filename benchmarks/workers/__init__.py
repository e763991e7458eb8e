"""Worker processes started by the benchmark (see ``benchmarks.procs``)."""
