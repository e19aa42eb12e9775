using Evergreen.Bench.Explore;

// Modes (one process each for the two child kinds: patching is one-way, and the stress loop must run unpatched):
//   explore BUG FIRST_SEED MAX_SCHEDULES BUDGET_MS   child: MonkeyPatch(os: false, thread: true), then Explore; one row
//   stress BUG BUDGET_MS [warm]                      child: unpatched, the body in a loop until it fails or the budget ends; one row
//                                                    (warm: the corpus JIT-compiled before the loop; see StressChild.Prejit)
//   table [--seeds N] [--stress-ms MS] [--budget-ms MS] [--max-schedules N] [--coyote DLL] [--coyote-thread-seeds N]
//         [--coyote-thread-budget-ms MS] [--markdown FILE] [BUG...]
//                                                    the driver: runs the children, prints bench rows and a markdown table
//   show BUG SEED                                    child: patched, Replay of one seed, the interleaving printed
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: explore BUG FIRST_SEED MAX_SCHEDULES BUDGET_MS | stress BUG BUDGET_MS | show BUG SEED | table [options] [BUG...]");
    return 2;
}
return args[0] switch
{
    "explore" => ExploreChild.Run(args[1], int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4])),
    "show" => ExploreChild.Show(args[1], int.Parse(args[2])),
    "stress" => StressChild.Run(args[1], int.Parse(args[2]), warm: args.Length > 3 && args[3] == "warm"),
    "table" => Table.Run(args[1..]),
    _ => 2,
};
