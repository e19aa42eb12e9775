using System.Reflection;

namespace Evergreen.Detours;

/// <summary>
/// Checks that a replacement can receive a target's calls: the same machine-level arguments in the same registers and a
/// return value the callers can use. Writing the types exactly is the rule; the exceptions are the ones a replacement
/// written in another assembly needs to name what it cannot see.
/// </summary>
internal static class SignatureMatcher
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first mismatch.</summary>
    internal static void ThrowIfMismatch(MethodBase target, MethodInfo replacement)
    {
        if (!replacement.IsStatic)
        {
            throw new ArgumentException($"replacement {Describe(replacement)} must be static", nameof(replacement));
        }

        if (replacement.ContainsGenericParameters)
        {
            throw new ArgumentException($"replacement {Describe(replacement)} must not be an open generic method", nameof(replacement));
        }

        var expected = new List<Type>();
        if (!target.IsStatic)
        {
            var declaring = target.DeclaringType!;
            expected.Add(declaring.IsValueType ? declaring.MakeByRefType() : declaring);
        }

        expected.AddRange(target.GetParameters().Select(p => p.ParameterType));
        var actual = replacement.GetParameters();
        if (actual.Length != expected.Count)
        {
            string hint = target.IsStatic ? string.Empty : " (an instance target's replacement takes 'this' as its first parameter)";
            throw new ArgumentException(
                $"parameter count mismatch: target {Describe(target)} needs {expected.Count}, replacement {Describe(replacement)} has {actual.Length}{hint}",
                nameof(replacement));
        }

        for (int i = 0; i < actual.Length; i++)
        {
            Type want = expected[i], have = actual[i].ParameterType;
            bool isThis = !target.IsStatic && i == 0;
            if (!ParameterFits(want, have, isThis))
            {
                string what = isThis ? "'this' (parameter 0)" : $"parameter {i} ('{actual[i].Name}')";
                throw new ArgumentException(
                    $"{what} type mismatch: target {Describe(target)} passes {want}, replacement {Describe(replacement)} takes {have}",
                    nameof(replacement));
            }
        }

        Type targetReturn = target is MethodInfo mi ? mi.ReturnType : typeof(void);
        if (!ReturnFits(targetReturn, replacement.ReturnType))
        {
            throw new ArgumentException(
                $"return type mismatch: target {Describe(target)} returns {targetReturn}, replacement {Describe(replacement)} returns {replacement.ReturnType}",
                nameof(replacement));
        }
    }

    private static bool ParameterFits(Type want, Type have, bool isThis)
    {
        if (want == have)
        {
            return true;
        }

        if (want.IsByRef || have.IsByRef)
        {
            return want.IsByRef && have.IsByRef && SameAbi(want.GetElementType()!, have.GetElementType()!);
        }

        // A reference is a reference: the replacement may take a base type (object for 'this' or a non-public class).
        if (!want.IsValueType && !have.IsValueType && !want.IsPointer && !have.IsPointer)
        {
            return have.IsAssignableFrom(want) || (isThis && have == typeof(object));
        }

        return SameAbi(want, have);
    }

    private static bool ReturnFits(Type want, Type have)
    {
        if (want == have)
        {
            return true;
        }

        // Callers may rely on the declared type of what comes back, so only a more derived reference is accepted.
        if (!want.IsValueType && !have.IsValueType && want != typeof(void) && have != typeof(void) && !want.IsByRef && !have.IsByRef)
        {
            return want.IsAssignableFrom(have);
        }

        return SameAbi(want, have);
    }

    /// <summary>Value types that travel identically: an enum and its underlying type, a single-field struct and its field.</summary>
    private static bool SameAbi(Type a, Type b)
    {
        return Unwrap(a) == Unwrap(b);

        static Type Unwrap(Type t)
        {
            for (int depth = 0; depth < 4; depth++)
            {
                if (t.IsEnum)
                {
                    t = Enum.GetUnderlyingType(t);
                    continue;
                }

                if (t.IsValueType && !t.IsPrimitive && !t.IsPublic && !t.IsNestedPublic)
                {
                    var fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
                    if (fields.Length == 1 && (fields[0].FieldType.IsPrimitive || fields[0].FieldType.IsEnum))
                    {
                        t = fields[0].FieldType;
                        continue;
                    }
                }

                break;
            }

            return t;
        }
    }

    internal static string Describe(MethodBase m) => DetourException.Describe(m);
}
