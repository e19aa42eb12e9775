using System.Reflection;
using System.Runtime.InteropServices;
using Evergreen.Detours.Platform;
using Xunit;

namespace Evergreen.Detours.Tests;

/// <summary>Checks that write nothing: signature matching and the platform guard.</summary>
[Collection(DetourCollection.Name)]
public sealed class InProcessTests
{
    private static MethodInfo M(string name) => typeof(InProcessTests).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;

    private static int Target(int a, string b) => a;

    private int InstanceTarget(long x) => (int)x;

    private static int GoodStatic(int a, string b) => a;

    private static int GoodInstance(InProcessTests self, long x) => 0;

    private static int GoodInstanceObject(object self, long x) => 0;

    private static int WrongCount(int a) => a;

    private static int WrongType(int a, long b) => a;

    private static long WrongReturn(int a, string b) => a;

    private static int MissingThis(long x) => 0;

    private int NotStatic(int a, string b) => a;

    /// <summary>Matching signatures pass, static and instance.</summary>
    [Fact]
    public void MatchingSignaturesPass()
    {
        SignatureMatcher.ThrowIfMismatch(M(nameof(Target)), M(nameof(GoodStatic)));
        var instance = typeof(InProcessTests).GetMethod(nameof(InstanceTarget), BindingFlags.NonPublic | BindingFlags.Instance)!;
        SignatureMatcher.ThrowIfMismatch(instance, M(nameof(GoodInstance)));
        SignatureMatcher.ThrowIfMismatch(instance, M(nameof(GoodInstanceObject)));
    }

    /// <summary>Each kind of mismatch is an ArgumentException naming it.</summary>
    [Theory]
    [InlineData(nameof(WrongCount), "parameter count")]
    [InlineData(nameof(WrongType), "parameter 1")]
    [InlineData(nameof(WrongReturn), "return type")]
    public void MismatchesAreNamed(string replacement, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => SignatureMatcher.ThrowIfMismatch(M(nameof(Target)), M(replacement)));
        Assert.Contains(expected, e.Message);
    }

    /// <summary>An instance target needs 'this' first; a replacement must be static.</summary>
    [Fact]
    public void StaticVersusInstance()
    {
        var instance = typeof(InProcessTests).GetMethod(nameof(InstanceTarget), BindingFlags.NonPublic | BindingFlags.Instance)!;
        Assert.Contains("'this'", Assert.Throws<ArgumentException>(() => SignatureMatcher.ThrowIfMismatch(instance, M(nameof(MissingThis)))).Message);
        var notStatic = typeof(InProcessTests).GetMethod(nameof(NotStatic), BindingFlags.NonPublic | BindingFlags.Instance)!;
        Assert.Contains("static", Assert.Throws<ArgumentException>(() => SignatureMatcher.ThrowIfMismatch(M(nameof(Target)), notStatic)).Message);
    }

    /// <summary>A non-public enum / single-field struct may be written as its underlying type (Monitor, Lock.ThreadId).</summary>
    [Fact]
    public void NonPublicWrappersMatchTheirField()
    {
        var threadId = typeof(Lock).GetNestedType("ThreadId", BindingFlags.NonPublic)!;
        var exit = typeof(Lock).GetMethod("Exit", BindingFlags.NonPublic | BindingFlags.Instance, [threadId])!;
        SignatureMatcher.ThrowIfMismatch(exit, M(nameof(LockExit)));
    }

    private static void LockExit(Lock l, uint id)
    {
    }

    /// <summary>The guard accepts only .NET 10 CoreCLR on linux-x64.</summary>
    [Fact]
    public void PlatformGuard_AcceptsOnlyNet10LinuxX64CoreClr()
    {
        Assert.Null(PlatformGuard.GetUnsupportedReason(new PlatformFacts(true, Architecture.X64, true, 10)));
        Assert.Contains("Linux", PlatformGuard.GetUnsupportedReason(new PlatformFacts(false, Architecture.X64, true, 10)));
        Assert.Contains("x64", PlatformGuard.GetUnsupportedReason(new PlatformFacts(true, Architecture.Arm64, true, 10)));
        Assert.Contains("CoreCLR", PlatformGuard.GetUnsupportedReason(new PlatformFacts(true, Architecture.X64, false, 10)));
        Assert.Contains("version 9", PlatformGuard.GetUnsupportedReason(new PlatformFacts(true, Architecture.X64, true, 9)));
        Assert.Contains("version 11", PlatformGuard.GetUnsupportedReason(new PlatformFacts(true, Architecture.X64, true, 11)));
        Assert.Throws<PlatformNotSupportedException>(() => PlatformGuard.ThrowIfUnsupported(new PlatformFacts(true, Architecture.X64, true, 8)));
        Assert.True(DetourEngine.IsPlatformSupported);
    }
}
