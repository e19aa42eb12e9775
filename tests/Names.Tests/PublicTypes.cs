// Compiled with ImplicitUsings (System, System.Collections.Generic, System.IO, System.Linq, System.Net.Http,
// System.Threading, System.Threading.Tasks) plus the usings below: a public type of ours that shares its simple
// name with one of theirs makes a reference here ambiguous (CS0104) and the build fails.
// NameTests.Every_public_type_is_listed_in_the_compile_check keeps this list complete.
using System.Net.Sockets;
using Evergreen;
using Evergreen.Detours;
using Evergreen.IO;
using Evergreen.Patching;
using Evergreen.Testing;

// Outside Evergreen.*, as user code is: inside it our types would win over the usings and hide a clash.
namespace UserCode;

internal static class PublicTypes
{
    internal static readonly Type[] All =
    [
        // Evergreen.Hub
        typeof(Green), typeof(Hub), typeof(GreenThread), typeof(GreenThread<>), typeof(GreenPool), typeof(GreenPile<>),
        typeof(Event), typeof(Event<>), typeof(GreenSemaphore), typeof(GreenBoundedSemaphore), typeof(GreenCappedSemaphore),
        typeof(GreenLightQueue<>), typeof(GreenQueue<>), typeof(GreenLifoQueue<>), typeof(GreenPriorityQueue<,>),
        typeof(GreenTimeout), typeof(PollEvents),
        typeof(GreenThreadExitException), typeof(GreenTimeoutException), typeof(GreenThreadLimitException),
        typeof(GreenDeadlockException), typeof(NotGreenThreadException), typeof(QueueEmptyException),
        typeof(QueueFullException), typeof(SemaphoreOverReleasedException),
        // Evergreen.GreenIO
        typeof(GreenSocket), typeof(GreenDns), typeof(Tpool),
        // Evergreen.Patcher
        typeof(Patcher), typeof(OriginalModule), typeof(OriginalThread), typeof(OriginalTime), typeof(OriginalMonitor),
        typeof(OriginalSocket), typeof(LatePatchException), typeof(MonkeyPatchException),
        // Evergreen.Detours
        typeof(DetourEngine), typeof(IDetourEngine), typeof(IDetour), typeof(DetourException),
        // Evergreen.Testing
        typeof(ScheduleExplorer), typeof(ExploreOptions), typeof(ScheduleStep), typeof(ExplorationReport), typeof(AssertionFailedException),
    ];
}
