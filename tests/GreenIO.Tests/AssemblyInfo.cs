using Xunit;

// One hub per process: every test runs green threads on it, so the tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
