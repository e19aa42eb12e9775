using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Evergreen.Detours.Platform;

/// <summary>What the engine needs to know about where it runs: OS, architecture and runtime are separate axes.</summary>
/// <param name="IsLinux">The operating system is Linux.</param>
/// <param name="Architecture">The process architecture.</param>
/// <param name="IsCoreClr">The runtime is CoreCLR with a JIT (not Mono, not NativeAOT).</param>
/// <param name="RuntimeMajor">The runtime's major version (<see cref="Environment.Version"/>).</param>
internal readonly record struct PlatformFacts(bool IsLinux, Architecture Architecture, bool IsCoreClr, int RuntimeMajor);

/// <summary>Refuses every platform the engine has not been measured on, before a byte is written.</summary>
internal static class PlatformGuard
{
    /// <summary>The only runtime major version whose layouts (MethodDesc flags, JIT-EE interface) were verified.</summary>
    internal const int SupportedRuntimeMajor = 10;

    internal static PlatformFacts Current => new(
        OperatingSystem.IsLinux(),
        RuntimeInformation.ProcessArchitecture,
        // Mono defines Mono.RuntimeStructs; NativeAOT has no dynamic code and no JIT to hook.
        Type.GetType("Mono.RuntimeStructs") is null && RuntimeFeature.IsDynamicCodeCompiled,
        Environment.Version.Major);

    /// <summary>Returns why <paramref name="facts"/> is unsupported, or null when it is supported.</summary>
    internal static string? GetUnsupportedReason(PlatformFacts facts)
    {
        if (!facts.IsLinux)
        {
            return "operating system: the detour engine supports Linux only";
        }

        if (facts.Architecture != Architecture.X64)
        {
            return $"architecture {facts.Architecture}: the detour engine supports x64 only";
        }

        if (!facts.IsCoreClr)
        {
            return "runtime: the detour engine needs CoreCLR with a JIT (not Mono, not NativeAOT)";
        }

        if (facts.RuntimeMajor != SupportedRuntimeMajor)
        {
            return $"runtime version {facts.RuntimeMajor}: the detour engine's layouts are verified for .NET {SupportedRuntimeMajor} only";
        }

        return null;
    }

    /// <summary>Throws <see cref="PlatformNotSupportedException"/> unless <paramref name="facts"/> is supported.</summary>
    internal static void ThrowIfUnsupported(PlatformFacts facts)
    {
        if (GetUnsupportedReason(facts) is { } reason)
        {
            throw new PlatformNotSupportedException(reason);
        }
    }
}
