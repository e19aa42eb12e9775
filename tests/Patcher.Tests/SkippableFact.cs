using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Evergreen.Patcher.Tests;

/// <summary>
/// Thrown from a <see cref="SkippableFactAttribute"/> test to report it as Skipped (with this message as the reason)
/// when it cannot run here, e.g. no PostgreSQL. xunit 2.9.3 has no dynamic skip of its own.
/// </summary>
public sealed class SkipTestException(string reason) : Exception(reason);

/// <summary>A [Fact] that reports Skipped instead of Failed when its body throws <see cref="SkipTestException"/>.</summary>
[XunitTestCaseDiscoverer("Evergreen.Patcher.Tests.SkippableFactDiscoverer", "Evergreen.Patcher.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableFactAttribute : FactAttribute;

/// <summary>Discovers <see cref="SkippableFactAttribute"/> tests as <see cref="SkippableTestCase"/>s.</summary>
public sealed class SkippableFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc />
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        yield return new SkippableTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
    }
}

/// <summary>Runs like an ordinary test case, turning a failure by <see cref="SkipTestException"/> into a skip.</summary>
public sealed class SkippableTestCase : XunitTestCase
{
    /// <summary>For the deserializer.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippableTestCase() { }

    /// <summary>Creates the test case.</summary>
    public SkippableTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(diagnosticMessageSink, display, options, testMethod) { }

    /// <inheritdoc />
    public override async Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments,
        ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    {
        var bus = new SkippingBus(messageBus);
        var summary = await base.RunAsync(diagnosticMessageSink, bus, constructorArguments, aggregator, cancellationTokenSource);
        if (bus.Skipped > 0)
        {
            summary.Failed -= bus.Skipped;
            summary.Skipped += bus.Skipped;
        }
        return summary;
    }

    private sealed class SkippingBus(IMessageBus inner) : IMessageBus
    {
        public int Skipped;

        public bool QueueMessage(IMessageSinkMessage message)
        {
            if (message is ITestFailed failed && failed.ExceptionTypes.FirstOrDefault() == typeof(SkipTestException).FullName)
            {
                Skipped++;
                return inner.QueueMessage(new TestSkipped(failed.Test, failed.Messages.FirstOrDefault() ?? "skipped"));
            }
            return inner.QueueMessage(message);
        }

        public void Dispose() { } // the inner bus belongs to the runner
    }
}
