namespace Evergreen.Patching;

/// <summary>
/// <see cref="Patcher.MonkeyPatch"/> was refused because it came too late to be made correct ("do it first or
/// not at all"): not on the entry thread, a second call with different options, or after the program had
/// already started threads or opened sockets. The message says which, and what to do.
/// </summary>
public sealed class LatePatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public LatePatchException(string message) : base(message + " Make Patcher.MonkeyPatch(...) the first line of Main.") { }
}

/// <summary>Applying the monkey patch failed; nothing stays patched. <see cref="Target"/> names the method that failed.</summary>
public sealed class MonkeyPatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MonkeyPatchException(string target, string message, Exception? inner) : base(message, inner) => Target = target;

    /// <summary>The method whose detour failed, e.g. <c>System.Threading.Thread.Sleep(Int32)</c>.</summary>
    public string Target { get; }
}
