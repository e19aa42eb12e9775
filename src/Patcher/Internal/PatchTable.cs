using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Evergreen.Patching.Internal;

/// <summary>
/// One row of a patch table: the BCL method that is detoured (<see cref="Target"/>), the green replacement its calls
/// go to (<see cref="Replacement"/>), and where the target's original code goes. The patcher stores the original in
/// <see cref="Original"/> (a replacement that calls it casts it to its function-pointer type) and, for a row built with
/// a <c>publish</c> action, hands it to the lower layer that calls it (GreenIO's seam) — both before any detour of the
/// batch is written, so no replacement can run with an unset original.
/// </summary>
internal sealed class PatchRow
{
    private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;

    private readonly Action<nint>? _publish;

    private PatchRow(MethodBase? target, string targetText, MethodInfo? replacement, string replacementText, Action<nint>? publish)
    {
        Target = target;
        TargetText = targetText;
        Replacement = replacement;
        ReplacementText = replacementText;
        _publish = publish;
    }

    /// <summary>The detoured method; null when this runtime has no such member (the patcher refuses the area).</summary>
    public MethodBase? Target { get; }

    /// <summary>The target as written in the table (for messages when it is missing).</summary>
    public string TargetText { get; }

    /// <summary>The static replacement; null when it was not found (the patcher refuses the area).</summary>
    public MethodInfo? Replacement { get; }

    /// <summary>The replacement as written in the table.</summary>
    public string ReplacementText { get; }

    /// <summary>The target's original code, set by the patcher before the detour is written; 0 until then.</summary>
    public nint Original { get; private set; }

    /// <summary>
    /// A row for <paramref name="owner"/>'s method <paramref name="name"/> taking <paramref name="parameters"/>, routed to
    /// <paramref name="replacementOwner"/>'s static <paramref name="replacement"/>. The replacement takes the target's
    /// instance (if any) first, then the target's parameters; when <paramref name="replacementOwner"/> has one method of
    /// that name, that one is taken (its parameters may spell a non-public struct as its field, e.g. Lock.ThreadId as uint).
    /// </summary>
    public static PatchRow Method(Type owner, string name, Type?[] parameters, Type replacementOwner, string replacement, Action<nint>? publish = null)
    {
        MethodBase? target = parameters.Any(p => p == null) ? null : owner.GetMethod(name, Any, parameters!);
        return Make(target, $"{owner.Name}.{name}({string.Join(", ", parameters.Select(p => p == null ? "?" : TypeText(p)))})", replacementOwner, replacement, publish);
    }

    /// <summary>A row for a constructor of <paramref name="owner"/>; see <see cref="Method"/>.</summary>
    public static PatchRow Constructor(Type owner, Type[] parameters, Type replacementOwner, string replacement, Action<nint>? publish = null) =>
        Make(owner.GetConstructor(Any, parameters), $"new {owner.Name}({string.Join(", ", parameters.Select(TypeText))})", replacementOwner, replacement, publish);

    /// <summary>A row for a property accessor (<paramref name="setter"/>: the set accessor); see <see cref="Method"/>.</summary>
    public static PatchRow Accessor(Type owner, string property, bool setter, Type replacementOwner, string replacement, Action<nint>? publish = null)
    {
        var p = owner.GetProperty(property, Any);
        return Make(setter ? p?.SetMethod : p?.GetMethod, $"{owner.Name}.{property} {(setter ? "set" : "get")}", replacementOwner, replacement, publish);
    }

    private static PatchRow Make(MethodBase? target, string targetText, Type replacementOwner, string replacement, Action<nint>? publish)
    {
        MethodInfo? repl = null;
        if (target != null)
        {
            var ps = target.GetParameters().Select(p => p.ParameterType);
            if (!target.IsStatic) ps = ps.Prepend(target.DeclaringType!);
            repl = replacementOwner.GetMethod(replacement, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, ps.ToArray());
        }
        if (repl == null)
        {
            var byName = replacementOwner.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Where(m => m.Name == replacement).ToArray();
            if (byName.Length == 1) repl = byName[0];
        }
        return new PatchRow(target, targetText, repl, $"{replacementOwner.Name}.{replacement}", publish);
    }

    /// <summary>Stores the original (and hands it to the lower layer that calls it). Called once, before the detour is written.</summary>
    public void Bind(nint original)
    {
        Original = original;
        _publish?.Invoke(original);
    }

    /// <summary>The target as README and logs show it: <c>Type.Member(parameter types)</c>.</summary>
    public string Signature => Target == null ? TargetText : Describe(Target);

    /// <summary><c>Type.Member(parameter types)</c> with C# spellings (<c>int</c>, <c>Span&lt;byte&gt;</c>, <c>out SocketError</c>).</summary>
    public static string Describe(MethodBase m)
    {
        string ps = string.Join(", ", m.GetParameters().Select(p =>
            (p.ParameterType.IsByRef ? (p.IsOut ? "out " : "ref ") : "") + TypeText(p.ParameterType)));
        string type = m.DeclaringType?.Name ?? "?";
        if (m is ConstructorInfo) return $"new {type}({ps})";
        if (m.IsSpecialName && m.Name.StartsWith("get_", StringComparison.Ordinal)) return $"{type}.{m.Name[4..]} get";
        if (m.IsSpecialName && m.Name.StartsWith("set_", StringComparison.Ordinal)) return $"{type}.{m.Name[4..]} set";
        return $"{type}.{m.Name}({ps})";
    }

    private static string TypeText(Type t)
    {
        if (t.IsByRef) return TypeText(t.GetElementType()!);
        if (t.IsArray) return TypeText(t.GetElementType()!) + "[]";
        if (t.IsGenericType)
        {
            string name = t.Name[..t.Name.IndexOf('`')];
            return $"{name}<{string.Join(", ", t.GetGenericArguments().Select(TypeText))}>";
        }
        if (t.IsEnum) return t.Name;
        return Type.GetTypeCode(t) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Byte => "byte",
            TypeCode.Int32 => "int",
            TypeCode.UInt32 => "uint",
            TypeCode.Int64 => "long",
            TypeCode.String => "string",
            TypeCode.Object when t == typeof(object) => "object",
            _ => t.Name,
        };
    }
}

/// <summary>
/// An area's patch table as one replacement file declares it at its top (eventlet's <c>__patched__</c>): the patcher
/// applies exactly these rows, <see cref="Patcher.PatchedTargets"/> lists them, and README's patch table is generated
/// from them (a test compares the two).
/// </summary>
internal sealed class PatchTable
{
    public PatchTable(string area, string summary, PatchRow[] rows, Action? prepare = null, Action? connect = null, [CallerFilePath] string file = "")
    {
        Area = area;
        Summary = summary;
        Rows = rows;
        Prepare = prepare;
        Connect = connect;
        int src = file.Replace('\\', '/').LastIndexOf("/src/", StringComparison.Ordinal);
        File = src >= 0 ? file[(src + 1)..].Replace('\\', '/') : Path.GetFileName(file);
    }

    /// <summary>The area the rows belong to (one of <see cref="Patcher.Areas"/>).</summary>
    public string Area { get; }

    /// <summary>One line for README: what the replacements do.</summary>
    public string Summary { get; }

    public IReadOnlyList<PatchRow> Rows { get; }

    /// <summary>Run before the rows' detours are prepared (e.g. to give a virtual target a body to detour).</summary>
    public Action? Prepare { get; }

    /// <summary>
    /// Sets the hooks of a lower layer that are not a single original (e.g. how the hub starts a native thread); run
    /// after every row is bound and before any detour is written.
    /// </summary>
    public Action? Connect { get; }

    /// <summary>The file that declares the table, from <c>src/</c> on.</summary>
    public string File { get; }
}
