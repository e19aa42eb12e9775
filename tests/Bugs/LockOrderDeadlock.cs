namespace Evergreen.Bugs;

/// <summary>
/// AB/BA deadlock: <see cref="Bank.Transfer"/> locks the source account, then the destination. A transfer from A to
/// B and one from B to A, each holding its first lock, wait for each other forever.
/// </summary>
public static class LockOrderDeadlock
{
    /// <summary>An account with its own lock.</summary>
    public sealed class Account(string id, int balance)
    {
        /// <summary>Taken by every transfer that touches the account.</summary>
        public readonly object Gate = new();

        /// <summary>The account's id.</summary>
        public string Id { get; } = id;

        /// <summary>The balance (under <see cref="Gate"/>).</summary>
        public int Balance { get; set; } = balance;
    }

    /// <summary>Transfers between accounts.</summary>
    public static class Bank
    {
        /// <summary>The bug: locks in argument order, not in one global order.</summary>
        public static void Transfer(Account from, Account to, int amount)
        {
            lock (from.Gate)
            {
                lock (to.Gate)
                {
                    from.Balance -= amount;
                    to.Balance += amount;
                }
            }
        }
    }

    /// <summary>A→B and B→A at once; hangs when both take their first lock before either takes its second.</summary>
    public static void Body()
    {
        var a = new Account("A", 100);
        var b = new Account("B", 100);
        var ab = new Thread(() => Bank.Transfer(a, b, 10)) { Name = "transfer-A-to-B" };
        var ba = new Thread(() => Bank.Transfer(b, a, 20)) { Name = "transfer-B-to-A" };
        ab.Start();
        ba.Start();
        ab.Join();
        ba.Join();
        if (a.Balance + b.Balance != 200)
            throw new InvalidOperationException($"money created or lost: {a.Balance} + {b.Balance} != 200");
    }
}
