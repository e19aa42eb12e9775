// Every test runs green threads on the one process-wide hub; tests running in parallel would interleave there.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
