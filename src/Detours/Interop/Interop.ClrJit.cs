using System.Runtime.InteropServices;

namespace Evergreen.Detours.Interop;

/// <summary>The JIT's one export: <c>ICorJitCompiler* getJit()</c> in libclrjit.so.</summary>
internal static unsafe class ClrJit
{
    internal const string LibraryName = "libclrjit.so";

    /// <summary>Loads libclrjit.so from the runtime directory (already mapped by the runtime) and calls getJit.</summary>
    internal static nint GetJit()
    {
        string path = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), LibraryName);
        nint lib = NativeLibrary.Load(path);
        nint getJit = NativeLibrary.GetExport(lib, "getJit");
        return ((delegate* unmanaged<nint>)getJit)();
    }
}
